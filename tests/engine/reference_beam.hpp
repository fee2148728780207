#pragma once
// A straightforward beam search for tests: every step recomputes each beam
// from scratch (one contiguous sequence, no sharing, no paging tricks) and
// applies the rules of vLLM's legacy beam search directly.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "model/llama.hpp"

namespace pagedserve::testing {

struct ReferenceBeam {
  std::vector<std::int32_t> output_ids;
  double cumulative_logprob = 0;
  double score = 0;
};

class ReferenceBeamSearch {
 public:
  ReferenceBeamSearch(model::LlamaModel& model, kernels::Backend& backend) : model_(model) {
    const int max_len = model.config().max_seq_len;
    cache_ = backend.allocate_kv_cache(model.kv_spec(max_len, 1, backend.activation_dtype()));
  }

  // Log-probabilities of the token after `tokens`, computed from nothing.
  std::vector<double> next_logprobs(const std::vector<std::int32_t>& tokens) {
    kernels::BatchMetadata m;
    const int n = static_cast<int>(tokens.size());
    m.token_ids = tokens;
    for (int p = 0; p < n; ++p) {
      m.positions.push_back(p);
      m.slot_mapping.push_back(p);
      m.block_tables.push_back(p);
    }
    m.query_start = {0, n};
    m.context_lens = {n};
    m.max_blocks_per_seq = n;
    m.logits_rows = {n - 1};
    std::vector<float> logits;
    model_.forward(m, cache_, logits);
    const double mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (float l : logits) sum += std::exp(l - mx);
    std::vector<double> lp(logits.size());
    for (std::size_t i = 0; i < logits.size(); ++i) lp[i] = logits[i] - mx - std::log(sum);
    return lp;
  }

  std::vector<ReferenceBeam> run(const std::vector<std::int32_t>& prompt, int width, int n, int max_tokens,
                                 float length_penalty, bool early_stopping, const std::vector<std::int32_t>& eos) {
    struct Beam { std::vector<std::int32_t> out; double cum; };
    struct Cand { std::size_t beam; std::int32_t token; double cum; };
    const int plen = static_cast<int>(prompt.size());
    auto score = [&](double cum, std::size_t len) { return cum / std::pow(static_cast<double>(plen + static_cast<int>(len)), length_penalty); };
    std::vector<Beam> beams{{{}, 0.0}};
    std::vector<ReferenceBeam> finished;
    for (;;) {
      std::vector<Cand> cands;
      for (std::size_t b = 0; b < beams.size(); ++b) {
        auto tokens = prompt;
        tokens.insert(tokens.end(), beams[b].out.begin(), beams[b].out.end());
        const auto lp = next_logprobs(tokens);
        std::vector<std::int32_t> order(lp.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return lp[x] > lp[y]; });
        for (int k = 0; k < 2 * width; ++k) cands.push_back({b, order[k], beams[b].cum + lp[order[k]]});
      }
      std::stable_sort(cands.begin(), cands.end(), [](const Cand& x, const Cand& y) { return x.cum > y.cum; });
      cands.resize(std::min<std::size_t>(cands.size(), 2 * width));
      std::vector<Beam> running;
      for (const auto& c : cands) {
        auto out = beams[c.beam].out;
        const bool is_eos = std::find(eos.begin(), eos.end(), c.token) != eos.end();
        if (!is_eos) out.push_back(c.token);
        if (is_eos || static_cast<int>(out.size()) >= max_tokens)
          finished.push_back({out, c.cum, score(c.cum, out.size())});
        else
          running.push_back({out, c.cum});
      }
      std::stable_sort(finished.begin(), finished.end(), [](const auto& x, const auto& y) { return x.score > y.score; });
      const bool enough = finished.size() >= static_cast<std::size_t>(width);
      finished.resize(std::min<std::size_t>(finished.size(), width));
      if (running.empty()) break;
      if (enough && (early_stopping || finished.back().score >= score(running[0].cum, running[0].out.size()))) break;
      running.resize(std::min<std::size_t>(running.size(), width));
      beams = running;
    }
    finished.resize(std::min<std::size_t>(finished.size(), n));
    return finished;
  }

 private:
  model::LlamaModel& model_;
  kernels::KvCache cache_;
};

}  // namespace pagedserve::testing
