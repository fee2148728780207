#include "sim/sharing_sim.hpp"

#include <algorithm>
#include <random>

#include "memory/block_manager.hpp"

namespace pagedserve::sim {

namespace {

memory::BlockManager make_manager(const TraceRequest& r, int copies, int block_size) {
  memory::BlockManagerConfig c;
  c.block_size = block_size;
  // Room for every copy of the longest sequence, plus copy-on-write slack.
  c.num_gpu_blocks = copies * ((r.input_len + 2 * r.output_len) / block_size + 3);
  c.watermark = 0;
  c.enable_prefix_caching = false;
  return memory::BlockManager(c);
}

std::vector<std::int32_t> prompt_tokens(int n) {
  std::vector<std::int32_t> t(n);
  for (int i = 0; i < n; ++i) t[i] = i % 1000;
  return t;
}

double blocks_for(int tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

}  // namespace

SharingResult parallel_sampling_saving(const std::vector<TraceRequest>& trace, int n, int block_size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> scale(0.5, 1.5);
  SharingResult res;
  for (const auto& r : trace) {
    std::vector<int> lengths(n);
    for (auto& l : lengths) l = std::max(1, static_cast<int>(r.output_len * scale(rng)));
    auto bm = make_manager(r, n, block_size);
    bm.allocate(0, prompt_tokens(r.input_len));
    for (int s = 1; s < n; ++s) bm.fork(0, s);
    const int steps = *std::max_element(lengths.begin(), lengths.end());
    for (int step = 0; step < steps; ++step) {
      const std::int32_t token = step;
      for (int s = 0; s < n; ++s) {
        if (step == lengths[s]) bm.free(s);
        if (step >= lengths[s]) continue;
        bm.append(s, {&token, 1});
        res.blocks_unshared += blocks_for(r.input_len + step + 1, block_size);
      }
      res.blocks_shared += bm.gpu_pool().num_used();
    }
  }
  return res;
}

SharingResult beam_search_saving(const std::vector<TraceRequest>& trace, int width, int block_size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> neg_logprob(1.0);
  SharingResult res;
  for (const auto& r : trace) {
    auto bm = make_manager(r, 2 * width, block_size);
    memory::SeqId next_id = 0;
    std::vector<memory::SeqId> beams{next_id++};
    std::vector<double> scores{0.0};
    bm.allocate(beams[0], prompt_tokens(r.input_len));
    for (int step = 0; step < r.output_len; ++step) {
      struct Candidate { std::size_t parent; double score; };
      std::vector<Candidate> cands;
      for (std::size_t b = 0; b < beams.size(); ++b)
        for (int k = 0; k < width; ++k) cands.push_back({b, scores[b] - neg_logprob(rng)});
      std::partial_sort(cands.begin(), cands.begin() + width, cands.end(),
                        [](const Candidate& a, const Candidate& c) { return a.score > c.score; });
      std::vector<memory::SeqId> next;
      std::vector<double> next_scores;
      const std::int32_t token = step;
      for (int k = 0; k < width; ++k) {
        memory::SeqId child = next_id++;
        bm.fork(beams[cands[k].parent], child);
        bm.append(child, {&token, 1});
        next.push_back(child);
        next_scores.push_back(cands[k].score);
      }
      for (auto b : beams) bm.free(b);
      beams = std::move(next);
      scores = std::move(next_scores);
      res.blocks_shared += bm.gpu_pool().num_used();
      res.blocks_unshared += width * blocks_for(r.input_len + step + 1, block_size);
    }
    for (auto b : beams) bm.free(b);
  }
  return res;
}

}  // namespace pagedserve::sim
