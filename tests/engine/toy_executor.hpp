#pragma once
// A toy model for scheduler tests: KV memory is simulated as one token id
// per slot, written and copied exactly as the executor would, and every
// sampled token is a hash of the whole context read back through the block
// table. A paging bug (wrong slot, missing copy-on-write, bad swap, wrong
// prefix-cache hit) changes the context, hence the outputs, which the tests
// compare with toy_next_token over the true token sequence.

#include <cstdint>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "engine/executor.hpp"

namespace pagedserve::testing {

constexpr std::int32_t kToyVocab = 64;
constexpr std::int32_t kToyEos = 2;

// The toy model: sample `index` of a context.
inline std::int32_t toy_next_token(std::span<const std::int32_t> context, std::uint64_t index) {
  std::uint64_t h = 1469598103934665603ull + index * 977;
  for (std::size_t i = 0; i < context.size(); ++i) h = (h ^ static_cast<std::uint64_t>(context[i] + 7 * i)) * 1099511628211ull;
  if (h % 23 == 0) return kToyEos;
  return static_cast<std::int32_t>(3 + (h >> 17) % (kToyVocab - 3));
}

class ToyExecutor final : public engine::StepExecutor {
 public:
  ToyExecutor(int num_gpu_blocks, int num_cpu_blocks, int block_size)
      : bs_(block_size),
        gpu_(static_cast<std::size_t>(num_gpu_blocks) * block_size, -1),
        cpu_(static_cast<std::size_t>(num_cpu_blocks) * block_size, -1) {}

  std::string name() const override { return "toy"; }
  std::int64_t num_steps = 0;

  engine::StepResult execute(const engine::StepPlan& plan) override {
    ++num_steps;
    copy(plan.swap_out, gpu_, cpu_);
    copy(plan.swap_in, cpu_, gpu_);
    copy(plan.copy_on_write, gpu_, gpu_);
    for (auto id : plan.released_samplers) sample_index_.erase(id);
    for (const auto& s : plan.new_samplers) sample_index_[s.seq_id] = s.seed.value_or(0);
    const auto& b = plan.batch;
    if (auto why = b.validate(bs_, static_cast<int>(gpu_.size()) / bs_); !why.empty()) throw std::logic_error(why);
    for (int t = 0; t < b.num_tokens(); ++t) gpu_.at(static_cast<std::size_t>(b.slot_mapping[t])) = b.token_ids[t];
    engine::StepResult result;
    result.step_id = plan.step_id;
    for (std::size_t r = 0; r < plan.rows.size(); ++r) row(plan, plan.rows[r], b.logits_rows[r], result);
    return result;
  }

 private:
  static void copy(const std::vector<memory::BlockCopy>& copies, const std::vector<std::int32_t>& src,
                   std::vector<std::int32_t>& dst, int bs) {
    for (const auto& c : copies) std::copy_n(src.begin() + c.src * bs, bs, dst.begin() + c.dst * bs);
  }
  void copy(const std::vector<memory::BlockCopy>& copies, const std::vector<std::int32_t>& src,
            std::vector<std::int32_t>& dst) {
    copy(copies, src, dst, bs_);
  }

  // The context of the sequence whose last token is row `token_row`, read back from the pool.
  std::vector<std::int32_t> context(const kernels::BatchMetadata& b, int token_row) const {
    int s = 0;
    while (b.query_start[s + 1] <= token_row) ++s;
    std::vector<std::int32_t> ctx;
    for (int p = 0; p < b.context_lens[s]; ++p) {
      const int block = b.block_tables[static_cast<std::size_t>(s * b.max_blocks_per_seq + p / bs_)];
      ctx.push_back(gpu_.at(static_cast<std::size_t>(block * bs_ + p % bs_)));
    }
    return ctx;
  }

  void row(const engine::StepPlan& plan, const engine::RowRequest& req, int token_row, engine::StepResult& out) {
    const auto ctx = context(plan.batch, token_row);
    auto& r = out.add_row();
    for (auto id : req.samplers()) out.add_sample({id, toy_next_token(ctx, sample_index_.at(id)), -0.5f, {}});
    for (int k = 0; k < req.num_candidates; ++k) {
      const auto t = toy_next_token(ctx, 100 + static_cast<std::uint64_t>(k));
      r.candidates.push_back({t, -0.1f * static_cast<float>(k + 1) - 0.01f * static_cast<float>(t % 7)});
    }
  }

  int bs_;
  std::vector<std::int32_t> gpu_, cpu_;
  std::unordered_map<memory::SeqId, std::uint64_t> sample_index_;
};

}  // namespace pagedserve::testing
