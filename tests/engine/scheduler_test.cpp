// The scheduling policy step by step: admission, budgets, chunked prefill,
// preemption order, swap versus recompute, refusals and cancels. KV memory
// and the model are the toy ones of toy_executor.hpp.

#include "engine/scheduler.hpp"

#include <catch2/catch.hpp>

#include "engine/engine_core.hpp"
#include "toy_executor.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

struct Harness {
  memory::BlockManager blocks;
  Scheduler scheduler;
  OutputProcessor outputs{nullptr, {testing::kToyEos}, 256};
  testing::ToyExecutor executor;
  std::vector<Event> events;
  std::uint64_t step_id = 0;
  std::int32_t next_token = 3;

  static memory::BlockManagerConfig bm(int gpu, int cpu, int bs) {
    memory::BlockManagerConfig c;
    c.block_size = bs;
    c.num_gpu_blocks = gpu;
    c.num_cpu_blocks = cpu;
    c.watermark = 0;
    c.enable_prefix_caching = false;
    c.max_model_len = 256;
    return c;
  }

  Harness(int gpu, int cpu, int bs, SchedulerConfig config)
      : blocks(bm(gpu, cpu, bs)), scheduler(config), executor(gpu, cpu, bs) {}

  std::shared_ptr<SequenceGroup> add(const std::string& id, int prompt_len, int max_tokens, int priority = 0) {
    GenerateRequest r;
    r.request_id = id;
    for (int i = 0; i < prompt_len; ++i) r.prompt_ids.push_back(next_token++ % 60 + 3);
    r.sampling.max_tokens = max_tokens;
    r.sampling.ignore_eos = true;
    r.priority = priority;
    return outputs.add_request(r, scheduler, events);
  }

  std::shared_ptr<SchedulerOutput> step() {
    auto planned = plan_next_step(scheduler, blocks, step_id++);
    outputs.on_scheduled(*planned.output, events);
    if (planned.plan->has_work()) outputs.on_executed(*planned.output, executor.execute(*planned.plan), scheduler, events);
    return planned.output;
  }

  static bool in(const std::deque<std::shared_ptr<SequenceGroup>>& q, const std::string& id) {
    for (const auto& g : q)
      if (g->request_id() == id) return true;
    return false;
  }
  const SampleFinished* finished(const std::string& id) const {
    for (const auto& e : events)
      if (auto* f = std::get_if<SampleFinished>(&e); f && f->request_id == id) return f;
    return nullptr;
  }
  bool done(const std::string& id) const {
    for (const auto& e : events)
      if (auto* d = std::get_if<RequestDone>(&e); d && d->request_id == id) return true;
    return false;
  }
  int tokens_of(const SchedulerOutput& out, const std::string& id, bool* samples = nullptr) const {
    int n = 0;
    for (const auto& s : out.seqs)
      if (s.group->request_id() == id) {
        n += s.num_new_tokens;
        if (samples) *samples = s.samples;
      }
    return n;
  }
};

}  // namespace

TEST_CASE("admission is FCFS within max_num_seqs, lower priority values first", "[scheduler]") {
  Harness h(64, 0, 4, {2, 64, PreemptionMode::recompute});
  h.add("a", 3, 5);
  h.add("b", 3, 5);
  h.add("c", 3, 5, /*priority=*/-1);
  h.step();
  CHECK(Harness::in(h.scheduler.running(), "c"));
  CHECK(Harness::in(h.scheduler.running(), "a"));
  CHECK(Harness::in(h.scheduler.waiting(), "b"));
  CHECK(h.scheduler.num_live_running_seqs() == 2);
}

TEST_CASE("long prompts are chunked and share the step with decodes, decodes first", "[scheduler]") {
  Harness h(64, 0, 4, {4, 8, PreemptionMode::recompute});
  h.add("b", 2, 10);
  auto out = h.step();
  bool samples = false;
  CHECK(h.tokens_of(*out, "b", &samples) == 2);
  CHECK(samples);
  h.add("a", 20, 5);
  for (int chunk : {7, 7, 6}) {
    out = h.step();
    CHECK(h.tokens_of(*out, "b") == 1);
    CHECK(h.tokens_of(*out, "a", &samples) == chunk);
    CHECK(samples == (chunk == 6));  // only the chunk that ends the prompt samples
    CHECK(out->num_batched_tokens() <= 8);
  }
  out = h.step();
  CHECK(h.tokens_of(*out, "a") == 1);
}

TEST_CASE("a full pool preempts the lowest-priority, newest group first (recompute)", "[scheduler][preemption]") {
  Harness h(8, 0, 4, {8, 64, PreemptionMode::recompute});
  h.add("a", 4, 40);
  h.add("b", 4, 40, /*priority=*/1);
  h.add("c", 4, 40);
  std::vector<std::string> order;
  for (int i = 0; i < 40 && order.size() < 2; ++i) {
    auto out = h.step();
    for (const auto& g : out->preempted) order.push_back(g->request_id());
  }
  REQUIRE(order.size() >= 2);
  CHECK(order[0] == "b");  // lowest priority, though older than c
  CHECK(order[1] == "c");  // then the newest
  CHECK(h.scheduler.counters().num_preemptions_recompute >= 2);
  CHECK(h.scheduler.waiting().front()->request_id() == "c");  // front of its priority class
  for (const auto& g : h.scheduler.waiting())
    for (auto* s : g->live_seqs()) CHECK_FALSE(h.blocks.contains(s->seq_id));
  while (h.scheduler.has_work()) h.step();
  CHECK(h.done("a"));
  CHECK(h.done("b"));
  CHECK(h.done("c"));
  CHECK(h.blocks.num_free_gpu_blocks() == 8);
}

TEST_CASE("swap mode swaps the victim out and back in before admitting new requests", "[scheduler][preemption]") {
  Harness h(8, 16, 4, {8, 64, PreemptionMode::swap});
  h.add("a", 4, 14);
  h.add("b", 4, 40);
  bool swapped = false;
  for (int i = 0; i < 40 && !swapped; ++i) {
    auto out = h.step();
    swapped = !out->swap_out.empty();
    if (swapped) CHECK(out->swap_in.empty());
  }
  REQUIRE(swapped);
  REQUIRE(Harness::in(h.scheduler.swapped(), "b"));
  for (auto* s : h.scheduler.swapped().front()->live_seqs()) CHECK(h.blocks.location(s->seq_id) == memory::Device::cpu);
  h.add("d", 4, 4);  // arrives while b is swapped out
  while (Harness::in(h.scheduler.swapped(), "b")) {
    h.step();
    CHECK((Harness::in(h.scheduler.waiting(), "d") || !Harness::in(h.scheduler.swapped(), "b")));
  }
  CHECK(h.scheduler.counters().num_preemptions_swap >= 1);
  CHECK(h.scheduler.counters().num_preemptions_recompute == 0);
  while (h.scheduler.has_work()) h.step();
  CHECK(h.done("b"));
  CHECK(h.done("d"));
  CHECK(h.blocks.num_free_cpu_blocks() == 16);
}

TEST_CASE("swap mode falls back to recompute when the CPU pool has no room", "[scheduler][preemption]") {
  Harness h(8, 1, 4, {8, 64, PreemptionMode::swap});
  h.add("a", 4, 40);
  h.add("b", 4, 40);
  while (h.scheduler.counters().num_preemptions_recompute == 0 && h.step_id < 40) h.step();
  CHECK(h.scheduler.counters().num_preemptions_recompute >= 1);
  CHECK(h.scheduler.counters().num_preemptions_swap == 0);
}

TEST_CASE("a request that can never fit is refused with a clear message and blocks no one", "[scheduler]") {
  Harness h(4, 0, 4, {8, 64, PreemptionMode::recompute});
  h.add("huge", 30, 5);
  h.add("small", 3, 3);
  h.step();
  const auto* f = h.finished("huge");
  REQUIRE(f);
  CHECK(f->finish_reason == "error");
  CHECK_THAT(f->error, Catch::Contains("KV blocks"));
  CHECK(h.done("huge"));
  CHECK(Harness::in(h.scheduler.running(), "small"));
  while (h.scheduler.has_work()) h.step();
  REQUIRE(h.finished("small"));
  CHECK(h.finished("small")->finish_reason == "length");
}

TEST_CASE("a request that outgrows the whole pool on its own is refused, not preempted forever", "[scheduler]") {
  Harness h(4, 0, 4, {8, 64, PreemptionMode::recompute});
  h.add("grows", 4, 40);
  while (h.scheduler.has_work() && h.step_id < 100) h.step();
  REQUIRE_FALSE(h.scheduler.has_work());
  REQUIRE(h.finished("grows"));
  CHECK(h.finished("grows")->finish_reason == "error");
  CHECK(h.blocks.num_free_gpu_blocks() == 4);
}

TEST_CASE("cancel frees a request's blocks at the next step, wherever it waits", "[scheduler][cancel]") {
  Harness h(8, 16, 4, {8, 64, PreemptionMode::swap});
  h.add("a", 4, 40);
  h.add("b", 4, 40);
  while (h.scheduler.swapped().empty()) h.step();
  h.add("w", 4, 4);  // waits: b must come back first
  h.step();
  for (const char* id : {"b", "w", "a"}) {  // swapped, waiting, running
    INFO(id);
    auto g = h.scheduler.abort(id);
    REQUIRE(g);
    h.outputs.on_cancelled(*g, h.events);
    CHECK(h.finished(id)->finish_reason == "cancelled");
    CHECK_FALSE(h.done(id));  // RequestDone waits until the blocks are free
    h.step();
    CHECK(h.done(id));
    for (auto& s : g->seqs) CHECK_FALSE(h.blocks.contains(s->seq_id));
  }
  CHECK(h.blocks.num_free_gpu_blocks() == 8);
  CHECK(h.blocks.num_free_cpu_blocks() == 16);
  CHECK_FALSE(h.scheduler.has_work());
}
