// Every message type round-trips through CAF's binary serializer, so the
// actors' conversation can cross a process boundary: what is loaded
// serializes to the same bytes, and the fields CAF cannot serialize
// directly (optionals, variants, shared parameters, enums, durations) come
// back with their values. A whole run whose requests, grants, plans and
// results all cross as bytes produces the same tokens as one that does not.
// The worker link's handshake and its messages with actor handles in them
// round-trip whole, as the network layer sends them.

#include "actors/protocol.hpp"
#include "actors/rendezvous.hpp"
#include "actors/worker_link.hpp"

#include <catch2/catch.hpp>

#include "../engine/toy_executor.hpp"
#include "engine/engine_core.hpp"
#include "engine/memory_grant.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

struct Fixture {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  Fixture() {
    actors::add_message_types(config);
    system = std::make_unique<caf::actor_system>(config);
  }

  template <class T>
  std::vector<char> save(T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{*system, buf};
    REQUIRE_FALSE(sink(x));
    return buf;
  }
  // Saves, loads into a fresh T, and checks the copy saves to the same bytes.
  template <class T>
  T round_trip(T& x) {
    auto bytes = save(x);
    T copy;
    caf::binary_deserializer source{*system, bytes};
    REQUIRE_FALSE(source(copy));
    CHECK(save(copy) == bytes);
    return copy;
  }
};

model::SamplingParams unusual_params() {
  model::SamplingParams p;
  p.temperature = 0.7f;
  p.top_k = 5;
  p.seed = 1234;
  p.stop = {"\n\n", "The end"};
  p.stop_token_ids = {2, 7};
  p.logprobs = 3;
  p.ignore_eos = true;
  return p;
}

StepPlan sample_plan() {
  StepPlan plan;
  plan.step_id = 42;
  plan.swap_out = {{1, 2}};
  plan.swap_in = {{3, 4}, {5, 6}};
  plan.copy_on_write = {{7, 8}};
  plan.batch.token_ids = {10, 11, 12};
  plan.batch.positions = {0, 1, 5};
  plan.batch.slot_mapping = {32, 33, 69};
  plan.batch.query_start = {0, 2, 3};
  plan.batch.context_lens = {2, 6};
  plan.batch.block_tables = {2, 0, 4, 1};
  plan.batch.max_blocks_per_seq = 2;
  plan.batch.logits_rows = {1, 2};
  plan.rows.push_back({9, {9, 10, 11}, true, 0});
  plan.rows.push_back({12, {}, false, 6});
  SamplerSetup s;
  s.seq_id = 9;
  s.params = std::make_shared<const model::SamplingParams>(unusual_params());
  s.seed = 1235;
  s.context = {10, 11};
  plan.new_samplers.push_back(s);
  s.seed.reset();
  plan.new_samplers.push_back(s);
  plan.released_samplers = {3, 4};
  return plan;
}

}  // namespace

TEST_CASE("a StepPlan round-trips with its sampler setups", "[protocol]") {
  Fixture f;
  auto plan = sample_plan();
  auto copy = f.round_trip(plan);
  CHECK(copy.batch.block_tables == plan.batch.block_tables);
  CHECK(copy.batch.slot_mapping == plan.batch.slot_mapping);
  CHECK(copy.rows[0].fork_ids == plan.rows[0].fork_ids);
  CHECK_FALSE(copy.rows[1].draws);
  REQUIRE(copy.new_samplers.size() == 2);
  REQUIRE(copy.new_samplers[0].params);
  CHECK(copy.new_samplers[0].params->stop == plan.new_samplers[0].params->stop);
  CHECK(copy.new_samplers[0].params->seed == std::optional<std::uint64_t>(1234));
  CHECK(copy.new_samplers[0].seed == std::optional<std::uint64_t>(1235));
  CHECK_FALSE(copy.new_samplers[1].seed.has_value());
  CHECK(copy.released_samplers == plan.released_samplers);
}

TEST_CASE("a StepResult round-trips", "[protocol]") {
  Fixture f;
  StepResult r;
  r.step_id = 7;
  r.add_row();
  r.add_sample({9, 100, -0.5f, {{100, -0.5f}, {3, -1.5f}}});
  r.add_sample({10, 101, -0.25f, {}});
  r.add_row().candidates = {{5, -0.1f}};
  auto copy = f.round_trip(r);
  REQUIRE(copy.rows.size() == 2);
  CHECK(copy.samples_of(copy.rows[0]).size() == 2);
  CHECK(copy.samples[0].top_logprobs[1].token_id == 3);
  CHECK(copy.rows[1].candidates[0].token_id == 5);
}

TEST_CASE("events round-trip as the alternative they are", "[protocol]") {
  Fixture f;
  actors::EventList events;
  events.emplace_back(TokenEvent{"r1", 1, 42, "once", -0.5f, {{42, -0.5f}}});
  events.emplace_back(SampleFinished{"r1", 1, "error", "the engine stopped working", -3.0f});
  RequestDone done{"r1", 5, 64, 16, std::chrono::microseconds(1234)};
  events.emplace_back(done);
  auto copy = f.round_trip(events);
  REQUIRE(copy.size() == 3);
  CHECK(std::get<TokenEvent>(copy[0]).text == "once");
  CHECK(std::get<SampleFinished>(copy[1]).finish_reason == "error");
  CHECK(std::get<RequestDone>(copy[2]).time_to_first_token == std::chrono::microseconds(1234));
}

TEST_CASE("requests, metrics, block stats and admin owners round-trip", "[protocol]") {
  Fixture f;
  GenerateRequest req;
  req.request_id = "r9";
  req.prompt_ids = {1, 2, 3};
  req.sampling = unusual_params();
  req.n = 2;
  req.best_of = 3;
  req.priority = -1;
  auto req_copy = f.round_trip(req);
  CHECK(req_copy.sampling.seed == req.sampling.seed);
  CHECK(req_copy.best_of == 3);

  actors::SubmitMsg submit{req, nullptr};
  CHECK(f.round_trip(submit).request.request_id == "r9");

  actors::EngineMetrics m;
  m.num_running = 3;
  m.kv_utilization = 0.75;
  m.ttft_seconds = {0.1, 0.2};
  CHECK(f.round_trip(m).ttft_seconds == m.ttft_seconds);

  actors::BlockStats stats;
  stats.stats.gpu.num_used = 17;
  stats.peak_gpu_blocks_used = 20;
  CHECK(f.round_trip(stats).stats.gpu.num_used == 17);

  actors::SeqOwnerList owners{{4, "r9", 1, "running"}};
  CHECK(f.round_trip(owners)[0].request_id == "r9");
}

TEST_CASE("every admin view's snapshot round-trips as the view it is", "[protocol][admin]") {
  Fixture f;
  actors::AdminQuery query{actors::AdminView::seq, 77};
  auto query_copy = f.round_trip(query);
  CHECK(query_copy.view == actors::AdminView::seq);
  CHECK(query_copy.seq_id == 77);

  actors::SeqSnapshot seq{77, "r\"9", 1, "swapped", false, 21, 20, {{3, 2, true}, {5, 1, false}}};
  actors::AdminSnapshot one{seq};
  auto seq_copy = std::get<actors::SeqSnapshot>(f.round_trip(one).view);
  CHECK(seq_copy.request_id == "r\"9");
  CHECK_FALSE(seq_copy.on_gpu);
  CHECK(seq_copy.num_computed == 20);
  REQUIRE(seq_copy.blocks.size() == 2);
  CHECK(seq_copy.blocks[0].ref_count == 2);
  CHECK(seq_copy.blocks[0].cached);

  actors::AdminSnapshot seqs{actors::SeqsSnapshot{16, {seq, seq}}};
  CHECK(std::get<actors::SeqsSnapshot>(f.round_trip(seqs).view).seqs[1].blocks[1].id == 5);

  actors::PoolsSnapshot pools;
  pools.block_size = 16;
  pools.stats.gpu.num_shared = 3;
  pools.stats.num_tokens_stored = 99;
  pools.gpu_ref_counts = {0, 2, 1};
  pools.cpu_ref_counts = {1};
  actors::AdminSnapshot pools_view{pools};
  auto pools_copy = std::get<actors::PoolsSnapshot>(f.round_trip(pools_view).view);
  CHECK(pools_copy.stats.gpu.num_shared == 3);
  CHECK(pools_copy.stats.num_tokens_stored == 99);
  CHECK(pools_copy.gpu_ref_counts == pools.gpu_ref_counts);
  CHECK(pools_copy.cpu_ref_counts == pools.cpu_ref_counts);

  actors::AdminSnapshot prefix{actors::PrefixCacheSnapshot{true, 4, 10, 7, {{8, 0, true}}}};
  auto prefix_copy = std::get<actors::PrefixCacheSnapshot>(f.round_trip(prefix).view);
  CHECK(prefix_copy.hits == 7);
  CHECK(prefix_copy.blocks[0].id == 8);

  actors::AdminSnapshot queues{actors::QueuesSnapshot{{{"a", 0, 2, 5}}, {}, {{"b", -3, 1, 9}}}};
  auto queues_copy = std::get<actors::QueuesSnapshot>(f.round_trip(queues).view);
  CHECK(queues_copy.running[0].num_seqs == 2);
  CHECK(queues_copy.swapped.empty());
  CHECK(queues_copy.waiting[0].priority == -3);

  actors::AdminSnapshot counters{SchedulerCounters{12, 1, 2, 300, 40, 5}};
  auto counters_copy = std::get<SchedulerCounters>(f.round_trip(counters).view);
  CHECK(counters_copy.num_preemptions_recompute == 2);
  CHECK(counters_copy.num_rejected == 5);

  actors::AdminSnapshot gone{actors::NotLive{77}};
  CHECK(std::get<actors::NotLive>(f.round_trip(gone).view).seq_id == 77);
}

TEST_CASE("a run whose every step crosses as bytes matches one that does not", "[protocol]") {
  Fixture f;
  memory::BlockManagerConfig bm;
  bm.block_size = 4;
  bm.num_gpu_blocks = 24;
  bm.num_cpu_blocks = 24;
  bm.watermark = 0;
  SchedulerConfig sc{8, 32, PreemptionMode::swap};
  // The same requests through the block manager directly, and through bytes.
  auto run = [&](bool through_bytes) {
    memory::BlockManager blocks(bm);
    Scheduler scheduler(sc);
    OutputProcessor outputs(nullptr, {testing::kToyEos}, 64);
    testing::ToyExecutor executor(bm.num_gpu_blocks, bm.num_cpu_blocks, bm.block_size);
    std::vector<Event> events;
    for (int i = 0; i < 6; ++i) {
      GenerateRequest r;
      r.request_id = "r" + std::to_string(i);
      for (int t = 0; t < 5 + 3 * i; ++t) r.prompt_ids.push_back(3 + (t * 7 + i) % 50);
      r.sampling.max_tokens = 20;
      r.sampling.ignore_eos = true;
      r.n = 1 + i % 2;
      outputs.add_request(r, scheduler, events);
    }
    for (std::uint64_t step = 0; scheduler.has_work() && step < 500; ++step) {
      auto request = scheduler.memory_request(step);
      if (through_bytes) request = f.round_trip(request);
      auto grant = grant_memory(request, blocks);
      auto plan = plan_step(request, grant, blocks);
      if (through_bytes) {
        grant = f.round_trip(grant);
        plan = f.round_trip(plan);
      }
      auto out = scheduler.apply(grant);
      outputs.on_scheduled(out, events);
      if (!plan.has_work()) continue;
      auto result = executor.execute(plan);
      if (through_bytes) result = f.round_trip(result);
      outputs.on_executed(out, result, scheduler, events);
    }
    CHECK(scheduler.counters().num_preemptions_swap > 0);  // swaps crossed too
    std::vector<char> bytes;
    for (auto& e : events) {
      if (auto* d = std::get_if<RequestDone>(&e)) d->time_to_first_token = d->queue_time = {};  // wall-clock times
      auto b = f.save(e);
      bytes.insert(bytes.end(), b.begin(), b.end());
    }
    return bytes;
  };
  const auto direct = run(false);
  CHECK(direct.size() > 1000);
  CHECK(run(true) == direct);
}

TEST_CASE("the worker link's handshake values round-trip", "[protocol]") {
  Fixture f;
  actors::ModelShape shape{"stories260K", "LlamaForCausalLM", 64, 172, 5, 8, 4, 8, 512, 512, 0, 1, {2, 7}};
  auto shape_copy = f.round_trip(shape);
  CHECK(shape_copy.name == "stories260K");
  CHECK(shape_copy.eos_ids == shape.eos_ids);
  CHECK_FALSE(actors::shape_mismatch(shape, shape_copy).has_value());

  actors::ExecutorSetup setup;
  setup.dtype = "f16";
  setup.simple_attention = true;
  setup.num_gpu_blocks = 40;
  setup.swap_space_gib = 0.05;
  setup.max_model_len = 256;
  setup.token_bytes = {"", "\n", " the", std::string("\xe2\x96", 2)};
  setup.eos_ids = {0, 2};
  auto setup_copy = f.round_trip(setup);
  CHECK(setup_copy.token_bytes == setup.token_bytes);
  CHECK(setup_copy.eos_ids == setup.eos_ids);
  CHECK(setup_copy.dtype == "f16");
  CHECK(setup_copy.simple_attention);
  CHECK(setup_copy.swap_space_gib == 0.05);
  CHECK(setup_copy.max_model_len == 256);

  actors::WorkerPools pools{40, 80};
  CHECK(f.round_trip(pools).num_cpu_blocks == 80);
}

// 128 bytes with every value a byte can have, zeros among them.
kernels::NcclUniqueId nccl_id() {
  kernels::NcclUniqueId id;
  for (std::size_t i = 0; i < id.internal.size(); ++i) id.internal[i] = static_cast<char>(i * 37 % 256);
  return id;
}

TEST_CASE("NCCL's unique id round-trips as a value of its own", "[protocol][nccl]") {
  Fixture f;
  auto id = nccl_id();
  CHECK(f.round_trip(id) == nccl_id());
  CHECK(f.save(id).size() == 128);  // the bytes and nothing else
}

TEST_CASE("every message of the worker link round-trips whole, actor handles included", "[protocol]") {
  Fixture f;
  auto scheduler = f.system->spawn([](actors::scheduler_actor::pointer) -> actors::scheduler_actor::behavior_type {
    return {[](actors::step_atom) {}, [](actors::executed_atom, const StepResult&) {},
            [](actors::submit_atom, const GenerateRequest&) {}, [](actors::cancel_atom, const std::string&) {},
            [](actors::cancel_all_atom) {}, [](actors::metrics_atom) { return actors::EngineMetrics{}; },
            [](actors::admin_atom, const actors::AdminQuery&) { return actors::AdminSnapshot{}; },
            [](actors::ping_atom) { return true; }, [](actors::fail_atom, const std::string&) {}};
  });
  auto executor = f.system->spawn([](actors::executor_actor::pointer) -> actors::executor_actor::behavior_type {
    return {[](actors::connect_atom, const actors::step_results_actor&) {}, [](actors::execute_atom, const StepPlan&) {},
            [](actors::executed_atom, const StepResult&) {}, [](actors::step_failed_atom, const std::string&) {},
            [](actors::fail_atom, const std::string&) {}};
  });
  auto rendezvous = actors::spawn_rendezvous(*f.system);
  StepResult result;
  result.step_id = 3;
  std::vector<caf::message> messages = {
      caf::make_message(actors::hello_atom_v),
      caf::make_message(actors::ModelShape{"m", "LlamaForCausalLM", 8, 16, 1, 2, 2, 4, 32, 64, 0, 1, {2}}, 1),
      caf::make_message(actors::setup_atom_v, actors::ExecutorSetup{}, actors::ParallelPlace{3, 2, 2}, rendezvous),
      caf::make_message(actors::WorkerPools{4, 8}, executor),
      caf::make_message(actors::connect_atom_v, actors::step_results_actor{scheduler}),
      caf::make_message(actors::rendezvous_set_atom_v, std::string("0"), std::string("\0\1", 2)),
      caf::make_message(actors::rendezvous_get_atom_v, std::string("0")),
      caf::make_message(actors::execute_atom_v, sample_plan()),
      caf::make_message(actors::executed_atom_v, result),
      caf::make_message(actors::fail_atom_v, std::string("why")),
      caf::make_message(actors::step_failed_atom_v, std::string("what")),
      caf::make_message(actors::rendezvous_set_atom_v, std::string("nccl.tp0"), nccl_id()),
      caf::make_message(actors::nccl_id_atom_v, std::string("nccl.tp0")),
  };
  for (auto& m : messages) {
    INFO(caf::to_string(m));
    auto copy = f.round_trip(m);
    CHECK(copy.type_token() == m.type_token());
  }
  auto handles = f.round_trip(messages[3]);
  CHECK(handles.get_as<actors::executor_actor>(1) == executor);
  CHECK(f.round_trip(messages[4]).get_as<actors::step_results_actor>(1) == actors::step_results_actor{scheduler});
  auto setup = f.round_trip(messages[2]);
  CHECK(setup.get_as<actors::ParallelPlace>(2).rank == 3);
  CHECK(setup.get_as<actors::ParallelPlace>(2).world() == 4);
  CHECK(setup.get_as<actors::rendezvous_actor>(3) == rendezvous);
  CHECK(f.round_trip(messages[5]).get_as<std::string>(2) == std::string("\0\1", 2));
  // NCCL's unique id crosses as its 128 bytes, zeros and all.
  const auto id = f.round_trip(messages[messages.size() - 2]);
  CHECK(id.get_as<std::string>(1) == "nccl.tp0");
  CHECK(id.get_as<kernels::NcclUniqueId>(2) == nccl_id());
  caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(rendezvous, caf::exit_reason::user_shutdown);
}
