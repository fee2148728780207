// Thousands of random steps (arrivals, finishes, cancels, n / best_of /
// beam requests, shared prefixes) through a small pool, with the scheduler's
// invariants checked after every schedule() and the outputs compared with
// the toy model run on the true token sequences.

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "engine/engine_core.hpp"
#include "toy_executor.hpp"

using namespace pagedserve;
using namespace pagedserve::engine;

namespace {

struct Outcome {
  GenerateRequest request;
  std::map<int, std::vector<std::int32_t>> tokens;  // by sample index
  std::map<int, std::string> reasons;
  bool done = false;
};

struct RandomRun {
  memory::BlockManagerConfig bm_config;
  SchedulerConfig sched_config;
  memory::BlockManager blocks;
  Scheduler scheduler;
  OutputProcessor outputs;
  testing::ToyExecutor executor;
  std::mt19937 rng;
  std::map<std::string, Outcome> outcomes;
  std::vector<std::vector<std::int32_t>> bases;
  int next_request = 0;
  static constexpr int kMaxModelLen = 64;

  static memory::BlockManagerConfig bm(int gpu, int cpu) {
    memory::BlockManagerConfig c;
    c.block_size = 4;
    c.num_gpu_blocks = gpu;
    c.num_cpu_blocks = cpu;
    c.watermark = 0.05;
    c.max_model_len = kMaxModelLen;
    return c;
  }

  RandomRun(PreemptionMode mode, unsigned seed)
      : bm_config(bm(40, 24)),
        sched_config{8, 24, mode},
        blocks(bm_config),
        scheduler(sched_config),
        outputs(nullptr, {testing::kToyEos}, kMaxModelLen),
        executor(40, 24, 4),
        rng(seed) {
    for (int b = 0; b < 3; ++b) {
      std::vector<std::int32_t> base(12);
      for (auto& t : base) t = 3 + static_cast<std::int32_t>(rng() % 60);
      bases.push_back(base);
    }
  }

  int rand(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  GenerateRequest random_request() {
    GenerateRequest r;
    r.request_id = "r" + std::to_string(next_request++);
    const auto& base = bases[static_cast<std::size_t>(rand(3))];
    r.prompt_ids.assign(base.begin(), base.begin() + 1 + rand(12));
    for (int i = rand(18); i > 0; --i) r.prompt_ids.push_back(3 + rand(60));
    r.sampling.max_tokens = 1 + rand(40);
    r.sampling.seed = 0;
    r.sampling.ignore_eos = rand(4) == 0;
    r.priority = rand(3);
    const int kind = rand(10);
    if (kind == 0) {
      r.use_beam_search = true;
      r.n = 1 + rand(2);
      r.best_of = r.n + rand(2);
    } else if (kind <= 2) {
      r.n = 1 + rand(3);
      r.best_of = r.n + rand(2);
    }
    return r;
  }

  void record(std::vector<Event>& events) {
    for (auto& e : events) {
      auto& o = outcomes.at(request_id_of(e));
      REQUIRE_FALSE(o.done);
      if (auto* t = std::get_if<TokenEvent>(&e)) o.tokens[t->index].push_back(t->token_id);
      if (auto* f = std::get_if<SampleFinished>(&e))
        o.reasons[f->index] = f->finish_reason + (f->error.empty() ? "" : ": " + f->error);
      if (std::holds_alternative<RequestDone>(e)) {
        CHECK(static_cast<int>(o.reasons.size()) == o.request.n);
        o.done = true;
      }
    }
    events.clear();
  }

  void check_invariants(const SchedulerOutput& out) {
    REQUIRE(out.num_batched_tokens() <= sched_config.max_num_batched_tokens);
    REQUIRE(scheduler.num_live_running_seqs() <= sched_config.max_num_seqs);
    std::set<SeqId> live;
    for (const auto& g : scheduler.running())
      for (auto* s : g->live_seqs()) {
        REQUIRE(blocks.location(s->seq_id) == memory::Device::gpu);
        REQUIRE(blocks.num_tokens(s->seq_id) == s->num_tokens());
        REQUIRE(s->num_slotted == s->num_tokens());
        REQUIRE(s->num_computed < s->num_tokens());
        live.insert(s->seq_id);
      }
    for (const auto& g : scheduler.swapped())
      for (auto* s : g->live_seqs()) {
        REQUIRE(blocks.location(s->seq_id) == memory::Device::cpu);
        REQUIRE(blocks.num_tokens(s->seq_id) == s->num_slotted);
        live.insert(s->seq_id);
      }
    for (const auto& g : scheduler.waiting())
      for (auto* s : g->live_seqs()) REQUIRE_FALSE(blocks.contains(s->seq_id));
    for (const auto& s : out.seqs) REQUIRE(live.count(s.seq->seq_id) == 1);
    const auto ids = blocks.seq_ids();
    REQUIRE(std::set<SeqId>(ids.begin(), ids.end()) == live);
    const auto st = blocks.stats();
    REQUIRE(st.gpu.num_free + st.gpu.num_used == st.gpu.num_total);
  }

  void step(std::uint64_t id) {
    std::vector<Event> events;
    auto planned = plan_next_step(scheduler, blocks, id);
    check_invariants(*planned.output);
    outputs.on_scheduled(*planned.output, events);
    if (planned.plan->has_work()) outputs.on_executed(*planned.output, executor.execute(*planned.plan), scheduler, events);
    record(events);
  }

  void maybe_cancel() {
    std::vector<std::string> active;
    for (const auto& [id, o] : outcomes)
      if (!o.done) active.push_back(id);
    if (active.empty()) return;
    std::vector<Event> events;
    if (auto g = scheduler.abort(active[static_cast<std::size_t>(rand(static_cast<int>(active.size())))]))
      outputs.on_cancelled(*g, events);
    record(events);
  }

  void add_request() {
    auto r = random_request();
    outcomes[r.request_id].request = r;
    std::vector<Event> events;
    outputs.add_request(r, scheduler, events);
    record(events);
  }
};

// The toy model's output for sample `index` of a request, run contiguously.
std::vector<std::int32_t> toy_reference(const GenerateRequest& r, int index) {
  const int max_new = std::min<int>(r.sampling.max_tokens, RandomRun::kMaxModelLen - static_cast<int>(r.prompt_ids.size()) + 1);
  std::vector<std::int32_t> ctx = r.prompt_ids, out;
  while (static_cast<int>(out.size()) < max_new) {
    const auto t = testing::toy_next_token(ctx, static_cast<std::uint64_t>(index));
    if (t == testing::kToyEos && !r.sampling.ignore_eos) break;
    out.push_back(t);
    ctx.push_back(t);
  }
  return out;
}

void run(PreemptionMode mode, unsigned seed) {
  RandomRun run(mode, seed);
  std::uint64_t step = 0;
  for (; step < 3000; ++step) {
    if (run.rand(3) == 0) run.add_request();
    if (run.rand(40) == 0) run.maybe_cancel();
    run.step(step);
  }
  while (run.scheduler.has_work() && step < 20000) run.step(step++);
  REQUIRE_FALSE(run.scheduler.has_work());
  // No leaks: every block free (cached ones are free and evictable).
  CHECK(run.blocks.seq_ids().empty());
  CHECK(run.blocks.num_free_gpu_blocks() == run.bm_config.num_gpu_blocks);
  CHECK(run.blocks.num_free_cpu_blocks() == run.bm_config.num_cpu_blocks);
  int num_checked = 0, num_cancelled = 0;
  for (const auto& [id, o] : run.outcomes) {
    INFO("request " << id);
    REQUIRE(o.done);
    const bool cancelled = o.reasons.begin()->second == "cancelled";
    num_cancelled += cancelled;
    if (cancelled || o.request.use_beam_search || o.request.best_of > o.request.n) continue;
    for (int i = 0; i < o.request.n; ++i) {
      INFO("sample " << i << " ended with " << o.reasons.at(i));
      auto it = o.tokens.find(i);
      CHECK((it == o.tokens.end() ? std::vector<std::int32_t>{} : it->second) == toy_reference(o.request, i));
    }
    ++num_checked;
  }
  INFO("checked " << num_checked << " cancelled " << num_cancelled << " swap " << run.scheduler.counters().num_preemptions_swap << " recompute " << run.scheduler.counters().num_preemptions_recompute << " rejected " << run.scheduler.counters().num_rejected << " hits " << run.blocks.stats().num_prefix_hits << " cow " << run.blocks.stats().num_cow_copies << " steps " << step);
  CHECK(num_checked > 500);
  CHECK(num_cancelled > 5);
  const auto& c = run.scheduler.counters();
  CHECK(c.num_preemptions_swap + c.num_preemptions_recompute > 10);
  if (mode == PreemptionMode::swap) CHECK(c.num_preemptions_swap > 0);
  CHECK(run.blocks.stats().num_prefix_hits > 0);
  CHECK(run.blocks.stats().num_cow_copies > 0);
}

}  // namespace

TEST_CASE("random traffic through a small pool keeps every invariant (recompute)", "[scheduler][random]") {
  run(PreemptionMode::recompute, 7);
}

TEST_CASE("random traffic through a small pool keeps every invariant (swap)", "[scheduler][random]") {
  run(PreemptionMode::swap, 11);
}
