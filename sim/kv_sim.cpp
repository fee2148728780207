#include "sim/kv_sim.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "sim/first_fit.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::sim {

const char* kv_system_name(KvSystem s) {
  switch (s) {
    case KvSystem::paged: return "paged";
    case KvSystem::orca_max: return "orca_max";
    case KvSystem::orca_pow2: return "orca_pow2";
    case KvSystem::orca_oracle: return "orca_oracle";
  }
  return "?";
}

namespace {

struct SimRequest {
  int index = 0;
  int input = 0, output = 0;
  int generated = 0;          // output tokens produced so far
  double arrival = 0;
  double first_admit = -1;
  std::int64_t region = -1;   // contiguous systems: start of the reservation
  std::int64_t reserved = 0;  // contiguous systems: its size
  int length() const { return input + generated; }
};

std::int64_t next_pow2(std::int64_t x) {
  std::int64_t p = 1;
  while (p < x) p *= 2;
  return p;
}

// Distinct token ids per request and position, so requests never share a
// prefix by accident (a request does hit its own blocks after preemption).
std::int32_t token_of(int request, int position) {
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(request) * 2654435761u + position * 40503u) % 32000u);
}

class Simulation {
 public:
  Simulation(const std::vector<TraceRequest>& trace, KvSystem system, const SimConfig& c)
      : system_(system), c_(c), blocks_(block_config(c)), first_fit_(c.kv_tokens) {
    for (int i = 0; i < static_cast<int>(trace.size()); ++i) {
      const auto& t = trace[i];
      pending_.push_back({i, t.input_len, t.output_len, 0, t.arrival});
      if (reservation_for(pending_.back()) > c.kv_tokens || t.input_len + t.output_len > c.max_len)
        throw std::invalid_argument("request " + std::to_string(i) + " can never fit the KV budget");
    }
    std::stable_sort(pending_.begin(), pending_.end(), [](auto& a, auto& b) { return a.arrival < b.arrival; });
  }

  SimResult run() {
    std::size_t next_arrival = 0;
    while (next_arrival < pending_.size() || !waiting_.empty() || !running_.empty()) {
      if (waiting_.empty() && running_.empty()) {
        // Idle: jump the clock to the step of the next arrival.
        step_ = std::max(step_, static_cast<std::int64_t>(pending_[next_arrival].arrival / c_.step_time));
      }
      const double now = static_cast<double>(step_) * c_.step_time;
      for (; next_arrival < pending_.size() && pending_[next_arrival].arrival <= now; ++next_arrival)
        waiting_.push_back(pending_[next_arrival]);
      grow_running();
      admit(now);
      record();
      retire(now + c_.step_time);
      ++step_;
      if (step_ > 50'000'000) throw std::runtime_error("simulation did not finish");
    }
    return finish();
  }

 private:
  static memory::BlockManagerConfig block_config(const SimConfig& c) {
    memory::BlockManagerConfig b;
    b.block_size = c.block_size;
    b.num_gpu_blocks = static_cast<int>(c.kv_tokens / c.block_size);
    b.max_model_len = c.max_len;
    return b;
  }

  std::int64_t reservation_for(const SimRequest& r) const {
    const std::int64_t final_len = r.input + r.output;
    switch (system_) {
      case KvSystem::orca_max: return c_.max_len;
      case KvSystem::orca_pow2: return std::min<std::int64_t>(next_pow2(final_len), c_.max_len);
      case KvSystem::orca_oracle: return final_len;
      case KvSystem::paged: return (final_len + c_.block_size - 1) / c_.block_size * c_.block_size;
    }
    return final_len;
  }

  // Every running request gains one token. Paged: a slot on demand,
  // preempting the newest request (recompute) when none is left.
  void grow_running() {
    for (std::size_t i = 0; i < running_.size(); ++i) {
      SimRequest& r = running_[i];
      if (system_ == KvSystem::paged) {
        while (!blocks_.can_append(r.index) && i + 1 < running_.size()) preempt_newest();
        if (!blocks_.can_append(r.index)) {
          preempt_newest();  // r itself is the newest
          break;
        }
        const std::int32_t t = token_of(r.index, r.length());
        blocks_.append(r.index, {&t, 1});
        blocks_.mark_computed(r.index, blocks_.num_tokens(r.index));
      }
      ++r.generated;
    }
  }

  void preempt_newest() {
    SimRequest r = running_.back();
    running_.pop_back();
    blocks_.free(r.index);
    waiting_.push_front(r);
    ++num_preemptions_;
  }

  void admit(double now) {
    blocked_free_ = 0;
    while (!waiting_.empty() && static_cast<int>(running_.size()) < c_.max_num_seqs) {
      SimRequest& r = waiting_.front();
      if (!try_reserve(r)) break;
      if (r.first_admit < 0) r.first_admit = now;
      ++r.generated;  // the prompt step produces the first token
      running_.push_back(r);
      waiting_.pop_front();
    }
  }

  bool try_reserve(SimRequest& r) {
    if (system_ == KvSystem::paged) {
      std::vector<std::int32_t> tokens(r.length());
      for (int p = 0; p < r.length(); ++p) tokens[p] = token_of(r.index, p);
      if (blocks_.can_allocate(tokens) != memory::AllocStatus::ok) return false;
      blocks_.allocate(r.index, tokens);
      blocks_.mark_computed(r.index, r.length());
      return true;
    }
    r.reserved = reservation_for(r);
    auto start = first_fit_.allocate(r.reserved);
    if (!start) {
      // Enough memory in total but no hole big enough: external fragmentation.
      if (first_fit_.num_free() >= r.reserved) blocked_free_ = first_fit_.num_free();
      return false;
    }
    r.region = *start;
    return true;
  }

  void record() {
    std::int64_t real = 0, reserved = 0, future = 0;
    for (const auto& r : running_) {
      real += r.length();
      if (system_ != KvSystem::paged) {
        reserved += r.reserved;
        future += std::min<std::int64_t>(r.reserved, r.input + r.output) - r.length();
      }
    }
    if (system_ == KvSystem::paged) reserved = static_cast<std::int64_t>(blocks_.gpu_pool().num_used()) * c_.block_size;
    sum_real_ += static_cast<double>(real);
    sum_reserved_ += static_cast<double>(reserved);
    sum_future_ += static_cast<double>(future);
    sum_external_ += static_cast<double>(blocked_free_) / static_cast<double>(c_.kv_tokens);
    sum_running_ += static_cast<double>(running_.size());
    max_running_ = std::max(max_running_, static_cast<int>(running_.size()));
    if (c_.series_every > 0 && step_ % c_.series_every == 0) series_.push_back(static_cast<int>(running_.size()));
  }

  void retire(double end_of_step) {
    std::vector<SimRequest> still;
    for (auto& r : running_) {
      if (r.generated < r.output) {
        still.push_back(r);
        continue;
      }
      if (system_ == KvSystem::paged) blocks_.free(r.index);
      else first_fit_.free(r.region, r.reserved);
      latency_sum_ += (end_of_step - r.arrival) / r.output;
      queueing_sum_ += r.first_admit - r.arrival;
      ++num_finished_;
    }
    running_ = std::move(still);
  }

  SimResult finish() const {
    SimResult s;
    const double steps = static_cast<double>(std::max<std::int64_t>(step_, 1));
    s.utilization = sum_reserved_ > 0 ? sum_real_ / sum_reserved_ : 1.0;
    s.reservation = sum_reserved_ > 0 ? sum_future_ / sum_reserved_ : 0.0;
    s.internal_fragmentation = std::max(0.0, 1.0 - s.utilization - s.reservation);
    s.external_fragmentation = sum_external_ / steps;
    s.mean_running = sum_running_ / steps;
    s.max_running = max_running_;
    s.normalized_latency = latency_sum_ / static_cast<double>(std::max<std::int64_t>(num_finished_, 1));
    s.mean_queueing_delay = queueing_sum_ / static_cast<double>(std::max<std::int64_t>(num_finished_, 1));
    s.num_preemptions = num_preemptions_;
    s.num_steps = step_;
    s.running_series = series_;
    return s;
  }

  KvSystem system_;
  SimConfig c_;
  memory::BlockManager blocks_;
  FirstFitAllocator first_fit_;
  std::vector<SimRequest> pending_;
  std::deque<SimRequest> waiting_;
  std::vector<SimRequest> running_;  // admission order: the newest last
  std::int64_t step_ = 0, num_preemptions_ = 0, num_finished_ = 0, blocked_free_ = 0;
  double sum_real_ = 0, sum_reserved_ = 0, sum_future_ = 0, sum_external_ = 0, sum_running_ = 0;
  double latency_sum_ = 0, queueing_sum_ = 0;
  int max_running_ = 0;
  std::vector<int> series_;
};

}  // namespace

SimResult simulate_kv(const std::vector<TraceRequest>& trace, KvSystem system, const SimConfig& config) {
  return Simulation(trace, system, config).run();
}

double max_sustained_rate(std::vector<TraceRequest> trace, KvSystem system, const SimConfig& config,
                          std::uint64_t seed, double slack) {
  auto latency_at = [&](double rate) {
    assign_poisson_arrivals(trace, rate, seed);
    return simulate_kv(trace, system, config).normalized_latency;
  };
  // Unloaded, a request gets one token per step: step_time per token. A rate
  // is sustained while queueing adds at most (slack - 1) times that.
  const double limit = config.step_time * slack;
  double lo = 0, hi = 1.0;
  while (latency_at(hi) <= limit && hi < 1e4) {
    lo = hi;
    hi *= 2;
  }
  for (int i = 0; i < 12; ++i) {  // to within hi / 4096
    const double mid = (lo + hi) / 2;
    (latency_at(mid) <= limit ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace pagedserve::sim
