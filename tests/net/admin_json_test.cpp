// The admin views as JSON: the actors' snapshots of a real block manager
// and scheduler, written by net/admin_json, give the very bytes the console
// and the /admin/ page read; view names map to typed queries.

#include "net/admin_json.hpp"

#include <catch2/catch.hpp>

#include "../engine/toy_executor.hpp"
#include "actors/admin_views.hpp"
#include "engine/engine_core.hpp"

using namespace pagedserve;
using actors::AdminView;

namespace {

// Two requests on a pool of 6 blocks of 4 tokens, the second with two
// samples sharing their prompt's blocks, after `steps` steps.
struct SmallEngine {
  testing::ToyExecutor executor{6, 4, 4};
  engine::EngineCore core;

  explicit SmallEngine(int steps) : core(config(), executor, nullptr) {
    std::vector<engine::Event> events;
    core.add(request("first", {5, 6, 7, 8, 9}, 1), events);
    core.add(request("two \"samples\"", {5, 6, 7, 8, 10, 11}, 2), events);
    for (int i = 0; i < steps; ++i) core.step(events);
  }

  static engine::EngineCoreConfig config() {
    engine::EngineCoreConfig c;
    c.blocks.block_size = 4;
    c.blocks.num_gpu_blocks = 6;
    c.blocks.num_cpu_blocks = 4;
    c.blocks.watermark = 0;
    c.scheduler = {8, 64, engine::PreemptionMode::swap};
    c.eos_ids = {testing::kToyEos};
    c.max_model_len = 64;
    return c;
  }

  static engine::GenerateRequest request(const std::string& id, std::vector<std::int32_t> prompt, int n) {
    engine::GenerateRequest r;
    r.request_id = id;
    r.prompt_ids = std::move(prompt);
    r.n = n;
    r.sampling.max_tokens = 40;
    r.sampling.ignore_eos = true;
    return r;
  }

  std::string json(const std::string& view) const {
    auto query = net::admin_query(view);
    REQUIRE(query);
    auto snapshot = actors::scheduler_snapshot(*query, core.scheduler());
    if (!snapshot) snapshot = actors::block_snapshot(*query, core.blocks(), actors::seq_owners(core.scheduler()));
    REQUIRE(snapshot);
    auto json = net::admin_json(*snapshot);
    return json.value_or("(not live)");
  }
};

}  // namespace

TEST_CASE("view names map to typed queries, ids written as the engine writes them", "[admin_json]") {
  CHECK(net::admin_query("seqs")->view == AdminView::seqs);
  CHECK(net::admin_query("pool")->view == AdminView::pool);
  CHECK(net::admin_query("prefix")->view == AdminView::prefix);
  CHECK(net::admin_query("queues")->view == AdminView::queues);
  CHECK(net::admin_query("counters")->view == AdminView::counters);
  auto seq = net::admin_query("seq/42");
  REQUIRE(seq);
  CHECK(seq->view == AdminView::seq);
  CHECK(seq->seq_id == 42);
  for (const char* bad : {"seq/", "seq/042", "seq/-1", "seq/4x", "seq/99999999999999999999", "nonsense", "seqs/1"}) {
    INFO(bad);
    CHECK_FALSE(net::admin_query(bad));
  }
}


// After six steps: "first" runs on the GPU with two full blocks in the prefix
// cache; both samples of the second were swapped out, sharing their first
// block on the CPU. These are the bytes the views wrote when the actors
// built the JSON themselves.
TEST_CASE("each view's JSON is the console's, byte for byte", "[admin_json]") {
  SmallEngine e(6);
  CHECK(e.json("seqs") ==
      R"({"block_size":4,"seqs":[{"seq_id":1,"request_id":"first","index":0,"status":"running",)"
      R"("device":"gpu","num_tokens":10,"num_computed":8,"blocks":[{"id":0,"ref_count":1,)"
      R"("shared":false,"cached":true},{"id":1,"ref_count":1,"shared":false,"cached":true},)"
      R"({"id":5,"ref_count":1,"shared":false,"cached":false}]},{"seq_id":2,"request_id":"two \"samples\"",)"
      R"("index":0,"status":"swapped","device":"cpu","num_tokens":8,"num_computed":8,"blocks":[{"id":0,)"
      R"("ref_count":2,"shared":true,"cached":false},{"id":1,"ref_count":1,"shared":false,)"
      R"("cached":false}]},{"seq_id":3,"request_id":"two \"samples\"","index":1,"status":"swapped",)"
      R"("device":"cpu","num_tokens":8,"num_computed":8,"blocks":[{"id":0,"ref_count":2,"shared":true,)"
      R"("cached":false},{"id":2,"ref_count":1,"shared":false,"cached":false}]}]})");
  CHECK(e.json("seq/1") ==
      R"({"seq_id":1,"request_id":"first","index":0,"status":"running","device":"gpu","num_tokens":10,)"
      R"("num_computed":8,"blocks":[{"id":0,"ref_count":1,"shared":false,"cached":true},{"id":1,)"
      R"("ref_count":1,"shared":false,"cached":true},{"id":5,"ref_count":1,"shared":false,)"
      R"("cached":false}]})");
  CHECK(e.json("pool") ==
      R"({"block_size":4,"utilization":0.833333,"gpu":{"total":6,"free":3,"used":3,"cached":1,)"
      R"("shared":0,"ref_counts":[1,1,0,0,0,1]},"cpu":{"total":4,"free":1,"used":3,"cached":0,)"
      R"("shared":1,"ref_counts":[2,1,1,0]}})");
  CHECK(e.json("prefix") ==
      R"({"enabled":true,"num_cached_blocks":3,"queries":2,"hits":0,"blocks":[{"id":0,"ref_count":1,)"
      R"("shared":false,"cached":true},{"id":1,"ref_count":1,"shared":false,"cached":true},)"
      R"({"id":4,"ref_count":0,"shared":false,"cached":true}]})");
  CHECK(e.json("queues") ==
      R"({"running":[{"request_id":"first","priority":0,"num_seqs":1,"prompt_tokens":5}],)"
      R"("swapped":[{"request_id":"two \"samples\"","priority":0,"num_seqs":2,"prompt_tokens":6}],)"
      R"("waiting":[]})");
  CHECK(e.json("counters") ==
      R"({"num_steps":6,"num_preemptions_swap":1,"num_preemptions_recompute":0,"prompt_tokens_computed":11,)"
      R"("generation_tokens_computed":9,"num_rejected":0})");
  CHECK(e.json("seq/2") == e.json("seqs").substr(e.json("seqs").find("{\"seq_id\":2"), e.json("seq/2").size()));
  CHECK(e.json("seq/9") == "(not live)");
}
