#include "engine/output_processor.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "engine/beam_search.hpp"

namespace pagedserve::engine {

namespace {

std::vector<TokenLogprob> to_event(const std::vector<model::TokenChoice>& choices) {
  std::vector<TokenLogprob> out;
  out.reserve(choices.size());
  for (const auto& c : choices) out.push_back({c.token_id, c.logprob});
  return out;
}

RequestDone done_event(const SequenceGroup& g) {
  RequestDone d;
  d.request_id = g.request_id();
  d.prompt_tokens = g.prompt_len();
  d.completion_tokens = g.num_completion_tokens;
  d.num_cached_prompt_tokens = g.num_cached_prompt_tokens;
  if (g.first_token_time)
    d.time_to_first_token = std::chrono::duration_cast<std::chrono::microseconds>(*g.first_token_time - g.arrival_time());
  if (g.first_scheduled_time)
    d.queue_time = std::chrono::duration_cast<std::chrono::microseconds>(*g.first_scheduled_time - g.arrival_time());
  return d;
}

// Moves `text`'s remaining events to `events` as sample `index`.
void release_as(OutputText& text, int index, std::vector<Event>& events) {
  const std::size_t first = events.size();
  text.finish(events);
  for (std::size_t i = first; i < events.size(); ++i) std::get<TokenEvent>(events[i]).index = index;
}

}  // namespace

OutputProcessor::OutputProcessor(const model::Tokenizer* tokenizer, std::vector<std::int32_t> eos_ids, int max_model_len)
    : tokenizer_(tokenizer), eos_ids_(std::move(eos_ids)), max_model_len_(max_model_len) {}

std::shared_ptr<SequenceGroup> OutputProcessor::add_request(GenerateRequest request, Scheduler& scheduler,
                                                            std::vector<Event>& events) {
  std::vector<SeqId> ids(static_cast<std::size_t>(std::max({request.n, request.best_of, 1})));
  for (auto& id : ids) id = scheduler.new_seq_id();
  const int max_new = max_new_tokens(request.sampling.max_tokens, static_cast<int>(request.prompt_ids.size()), max_model_len_);
  auto g = std::make_shared<SequenceGroup>(std::move(request), std::move(ids), scheduler.new_arrival_seq(), max_new,
                                           tokenizer_);
  if (max_new > 0) {
    scheduler.add(g);
    return g;
  }
  g->over = true;
  end_unfinished(*g, "length", "", events);
  events.emplace_back(done_event(*g));
  return g;
}

void OutputProcessor::on_scheduled(const SchedulerOutput& out, std::vector<Event>& events) {
  for (const auto& g : out.rejected) end_unfinished(*g, "error", g->error, events);
  for (const auto& g : out.done) events.emplace_back(done_event(*g));
}

void OutputProcessor::on_cancelled(SequenceGroup& g, std::vector<Event>& events) {
  end_unfinished(g, "cancelled", "", events);
}

void OutputProcessor::on_failed(const SchedulerOutput& out, const std::string& error, Scheduler& scheduler,
                                std::vector<Event>& events) {
  for (const auto& s : out.seqs) {
    if (s.group->over) continue;
    if (auto g = scheduler.abort(s.group->request_id())) end_unfinished(*g, "error", error, events);
  }
}

void OutputProcessor::end_unfinished(SequenceGroup& g, const char* reason, const std::string& error,
                                     std::vector<Event>& events) {
  std::vector<bool> reported(static_cast<std::size_t>(g.num_returned()), !g.streams());
  for (auto& s : g.seqs) {
    if (g.streams() && s->is_finished()) {
      reported[static_cast<std::size_t>(s->index)] = true;  // its SampleFinished went out already
    } else if (g.streams()) {
      s->text.finish(events);
      g.num_completion_tokens += s->num_output_tokens();
      events.emplace_back(SampleFinished{g.request_id(), s->index, reason, error, static_cast<float>(s->cumulative_logprob)});
      reported[static_cast<std::size_t>(s->index)] = true;
    }
    s->status = SeqStatus::finished;
    s->finish_reason = reason;
  }
  // Samples that never started (before the fork), or all of them when the
  // results were to be chosen at the end.
  for (std::size_t i = 0; i < reported.size(); ++i)
    if (!g.streams() || !reported[i])
      events.emplace_back(SampleFinished{g.request_id(), static_cast<int>(i), reason, error, 0.0f});
}

// --- a step's samples --------------------------------------------------------------

void OutputProcessor::on_executed(const SchedulerOutput& out, const StepResult& result, Scheduler& scheduler,
                                  std::vector<Event>& events) {
  scheduler.on_step_executed(out);
  std::vector<std::pair<SequenceGroup*, std::vector<BeamRow>>> beams;
  std::size_t row = 0;
  const SequenceGroup* last_noted = nullptr;
  const auto now = Clock::now();
  events.reserve(events.size() + result.rows.size() + 8);
  for (const auto& s : out.seqs) {
    if (!s.samples) continue;
    if (row >= result.rows.size()) throw std::logic_error("the step result has fewer rows than its plan");
    const RowResult& r = result.rows[row++];
    SequenceGroup& g = *s.group;
    if (g.over) continue;  // cancelled while the step ran
    if (last_noted != &g) note_step(g, now);
    last_noted = &g;
    if (g.is_beam_search()) {
      if (beams.empty() || beams.back().first != &g) beams.push_back({&g, {}});
      beams.back().second.push_back({s.seq, &r});
      continue;
    }
    if (!g.forked && g.width() > 1) fork_samples(g, *s.seq, scheduler);
    for (const auto& sample : result.samples_of(r)) append_token(g, *g.find(sample.seq_id), sample, scheduler, events);
    if (g.num_live_seqs() == 0) finish_group(g, scheduler, events);
  }
  for (auto& [g, rows] : beams) {
    if (!beam_step(*g, rows, eos_ids_, scheduler)) continue;
    emit_best_beams(*g, events);
    scheduler.finish(*g);
  }
}

void OutputProcessor::note_step(SequenceGroup& g, Clock::time_point now) {
  if (!g.first_token_time) {
    g.first_token_time = now;
    latency_.time_to_first_token.push_back(std::chrono::duration<double>(now - g.arrival_time()).count());
  } else if (g.last_token_time) {
    latency_.inter_token.push_back(std::chrono::duration<double>(now - *g.last_token_time).count());
  }
  g.last_token_time = now;
}

LatencySamples OutputProcessor::take_latency_samples() { return std::exchange(latency_, {}); }

// The prompt's first sample: best_of sequences share its blocks from here.
void OutputProcessor::fork_samples(SequenceGroup& g, Sequence& first, Scheduler& scheduler) {
  const auto& ids = g.reserved_ids();
  for (std::size_t i = 1; i < ids.size(); ++i) {
    auto child = std::make_unique<Sequence>(first);
    child->seq_id = ids[i];
    child->index = static_cast<int>(i);
    scheduler.fork(first, *child);
    g.seqs.push_back(std::move(child));
  }
  g.forked = true;
}

bool OutputProcessor::is_stop_token(const model::SamplingParams& p, std::int32_t t) const {
  if (!p.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), t) != eos_ids_.end()) return true;
  return std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), t) != p.stop_token_ids.end();
}

void OutputProcessor::append_token(SequenceGroup& g, Sequence& seq, const SampledToken& sample, Scheduler& scheduler,
                                   std::vector<Event>& events) {
  seq.cumulative_logprob += sample.logprob;
  if (is_stop_token(g.params(), sample.token_id)) {
    finish_seq(g, seq, "stop", scheduler, events);  // the stop token is not part of the output
    return;
  }
  seq.token_ids.push_back(sample.token_id);
  seq.output_logprobs.push_back(sample.logprob);
  const bool stop_string = seq.text.push(
      TokenEvent{g.request_id(), seq.index, sample.token_id, {}, sample.logprob, to_event(sample.top_logprobs)});
  if (stop_string) {
    finish_seq(g, seq, "stop", scheduler, events);
  } else if (seq.num_output_tokens() >= g.max_new_tokens()) {
    finish_seq(g, seq, "length", scheduler, events);
  } else if (g.streams()) {
    seq.text.take_ready(events);
  }
}

void OutputProcessor::finish_seq(SequenceGroup& g, Sequence& seq, const char* reason, Scheduler& scheduler,
                                 std::vector<Event>& events) {
  seq.status = SeqStatus::finished;
  seq.finish_reason = reason;
  scheduler.release(seq);
  if (!g.streams()) return;  // the best samples are chosen when all have finished
  seq.text.finish(events);
  g.num_completion_tokens += seq.num_output_tokens();
  events.emplace_back(SampleFinished{g.request_id(), seq.index, reason, "", static_cast<float>(seq.cumulative_logprob)});
}

void OutputProcessor::finish_group(SequenceGroup& g, Scheduler& scheduler, std::vector<Event>& events) {
  if (!g.streams()) emit_best_samples(g, events);
  scheduler.finish(g);
}

// best_of > n: the n samples with the highest cumulative log-probability.
void OutputProcessor::emit_best_samples(SequenceGroup& g, std::vector<Event>& events) {
  std::vector<Sequence*> order;
  for (auto& s : g.seqs) order.push_back(s.get());
  std::stable_sort(order.begin(), order.end(),
                   [](const Sequence* a, const Sequence* b) { return a->cumulative_logprob > b->cumulative_logprob; });
  for (int i = 0; i < g.num_returned() && i < static_cast<int>(order.size()); ++i) {
    Sequence& s = *order[static_cast<std::size_t>(i)];
    release_as(s.text, i, events);
    g.num_completion_tokens += s.num_output_tokens();
    events.emplace_back(SampleFinished{g.request_id(), i, s.finish_reason, "", static_cast<float>(s.cumulative_logprob)});
  }
}

void OutputProcessor::emit_best_beams(SequenceGroup& g, std::vector<Event>& events) {
  const auto& prompt = g.request().prompt_ids;
  for (int i = 0; i < g.num_returned(); ++i) {
    if (i >= static_cast<int>(g.finished_beams.size())) {
      events.emplace_back(SampleFinished{g.request_id(), i, "error", "beam search ended with fewer finished beams than n", 0.0f});
      continue;
    }
    const BeamHypothesis& h = g.finished_beams[static_cast<std::size_t>(i)];
    OutputText text(tokenizer_, prompt.back(), {});
    for (std::size_t t = 0; t < h.output_ids.size(); ++t)
      text.push(TokenEvent{g.request_id(), i, h.output_ids[t], {}, h.output_logprobs[t], {}});
    release_as(text, i, events);
    g.num_completion_tokens += static_cast<int>(h.output_ids.size());
    events.emplace_back(SampleFinished{g.request_id(), i, h.finish_reason, "", static_cast<float>(h.cumulative_logprob)});
  }
}

}  // namespace pagedserve::engine
