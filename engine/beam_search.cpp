#include "engine/beam_search.hpp"

#include <algorithm>
#include <cmath>

namespace pagedserve::engine {

namespace {

struct Candidate {
  Sequence* parent = nullptr;
  std::int32_t token_id = 0;
  float logprob = 0;
  double cumulative = 0;
};

bool is_stop(const SequenceGroup& g, std::span<const std::int32_t> eos_ids, std::int32_t t) {
  const auto& p = g.params();
  if (!p.ignore_eos && std::find(eos_ids.begin(), eos_ids.end(), t) != eos_ids.end()) return true;
  return std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), t) != p.stop_token_ids.end();
}

BeamHypothesis hypothesis(const SequenceGroup& g, const Candidate& c, bool keep_token, const char* reason) {
  BeamHypothesis h;
  auto out = c.parent->output_ids();
  h.output_ids.assign(out.begin(), out.end());
  h.output_logprobs = c.parent->output_logprobs;
  if (keep_token) {
    h.output_ids.push_back(c.token_id);
    h.output_logprobs.push_back(c.logprob);
  }
  h.cumulative_logprob = c.cumulative;
  h.finish_reason = reason;
  h.score = beam_score(c.cumulative, g.prompt_len() + static_cast<int>(h.output_ids.size()), g.request().length_penalty);
  return h;
}

// The best 2 * width (beam, token) pairs by cumulative log-probability.
std::vector<Candidate> best_candidates(const SequenceGroup& g, const std::vector<BeamRow>& rows) {
  std::vector<Candidate> all;
  for (const auto& r : rows)
    for (const auto& c : r.row->candidates)
      all.push_back({r.beam, c.token_id, c.logprob, r.beam->cumulative_logprob + c.logprob});
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) { return a.cumulative > b.cumulative; });
  if (all.size() > static_cast<std::size_t>(2 * g.width())) all.resize(static_cast<std::size_t>(2 * g.width()));
  return all;
}

bool should_stop(const SequenceGroup& g, const Candidate& best_running) {
  if (g.request().early_stopping) return true;
  const double best = beam_score(best_running.cumulative, best_running.parent->num_tokens() + 1, g.request().length_penalty);
  return g.finished_beams.back().score >= best;
}

// Turns the kept candidates into the new beams: a parent's first child
// takes over its sequence, later ones fork it, unused parents are freed.
void realize(SequenceGroup& g, const std::vector<Candidate>& kept, Scheduler& scheduler) {
  std::vector<std::unique_ptr<Sequence>> next;
  for (const auto& c : kept) {
    auto owner = std::find_if(g.seqs.begin(), g.seqs.end(), [&](const auto& s) { return s.get() == c.parent; });
    if (owner != g.seqs.end()) {
      next.push_back(std::move(*owner));
      g.seqs.erase(owner);
      continue;
    }
    auto child = std::make_unique<Sequence>(*c.parent);  // before any token is added
    child->seq_id = scheduler.new_seq_id();
    scheduler.fork(*c.parent, *child);
    next.push_back(std::move(child));
  }
  for (auto& unused : g.seqs) scheduler.release(*unused);
  g.seqs = std::move(next);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    Sequence& s = *g.seqs[i];
    s.token_ids.push_back(kept[i].token_id);
    s.output_logprobs.push_back(kept[i].logprob);
    s.cumulative_logprob = kept[i].cumulative;
    s.index = static_cast<int>(i);
  }
}

}  // namespace

double beam_score(double cumulative_logprob, int num_tokens, float length_penalty) {
  return cumulative_logprob / std::pow(static_cast<double>(num_tokens), static_cast<double>(length_penalty));
}

bool beam_step(SequenceGroup& g, const std::vector<BeamRow>& rows, std::span<const std::int32_t> eos_ids,
               Scheduler& scheduler) {
  const std::size_t width = static_cast<std::size_t>(g.width());
  std::vector<Candidate> running;
  auto& finished = g.finished_beams;
  for (const auto& c : best_candidates(g, rows)) {
    if (is_stop(g, eos_ids, c.token_id)) {
      finished.push_back(hypothesis(g, c, false, "stop"));
    } else if (c.parent->num_output_tokens() + 1 >= g.max_new_tokens()) {
      finished.push_back(hypothesis(g, c, true, "length"));
    } else {
      running.push_back(c);
    }
  }
  std::stable_sort(finished.begin(), finished.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  const bool enough_finished = finished.size() >= width;
  if (finished.size() > width) finished.resize(width);
  if (running.empty() || (enough_finished && should_stop(g, running.front()))) {
    for (auto& s : g.seqs) scheduler.release(*s);
    g.seqs.clear();
    return true;
  }
  if (running.size() > width) running.resize(width);
  realize(g, running, scheduler);
  return false;
}

}  // namespace pagedserve::engine
