#pragma once
// Output processing: turns a step's sampled tokens into sequence state and
// client events. Appends tokens, forks a prompt into its best_of samples,
// advances beam searches, checks stop conditions (eos unless ignore_eos,
// stop token ids, stop strings, max_tokens, max_model_len) and asks the
// scheduler to free what ended.
//
// Event order per request: TokenEvents and SampleFinished as samples go,
// then RequestDone once the scheduler has freed the request's blocks (the
// next schedule() lists it in `done`). Requests whose n results are chosen
// at the end (best_of > n, beam search) send their tokens when they finish.
//
// Invariants: each returned sample index gets exactly one SampleFinished,
// after its TokenEvents; each request gets exactly one RequestDone, last;
// every sequence that ends is released to the scheduler exactly once.

#include <memory>
#include <vector>

#include "engine/request.hpp"
#include "engine/scheduler.hpp"
#include "engine/step_plan.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::engine {

struct LatencySamples {
  std::vector<double> time_to_first_token;  // seconds
  std::vector<double> inter_token;          // seconds between a request's steps
};

class OutputProcessor {
 public:
  // `tokenizer` may be null (no text, no stop strings).
  OutputProcessor(const model::Tokenizer* tokenizer, std::vector<std::int32_t> eos_ids, int max_model_len);

  // Queues a validated request; one that may generate nothing (max_tokens 0)
  // ends here. Returns the group (queued or over).
  std::shared_ptr<SequenceGroup> add_request(GenerateRequest request, Scheduler& scheduler, std::vector<Event>& events);
  // Events schedule() itself caused: refused requests, requests now over.
  void on_scheduled(const SchedulerOutput& out, std::vector<Event>& events);
  // Applies a step's results.
  void on_executed(const SchedulerOutput& out, const StepResult& result, Scheduler& scheduler, std::vector<Event>& events);
  // After Scheduler::abort: the unfinished samples end as "cancelled".
  void on_cancelled(SequenceGroup& g, std::vector<Event>& events);
  // The step could not run: every request in it ends with `error`.
  void on_failed(const SchedulerOutput& out, const std::string& error, Scheduler& scheduler, std::vector<Event>& events);

  LatencySamples take_latency_samples();

 private:
  bool is_stop_token(const model::SamplingParams& p, std::int32_t token) const;
  void fork_samples(SequenceGroup& g, Sequence& first, Scheduler& scheduler);
  void append_token(SequenceGroup& g, Sequence& seq, const SampledToken& sample, Scheduler& scheduler,
                    std::vector<Event>& events);
  void finish_seq(SequenceGroup& g, Sequence& seq, const char* reason, Scheduler& scheduler, std::vector<Event>& events);
  void finish_group(SequenceGroup& g, Scheduler& scheduler, std::vector<Event>& events);
  void emit_best_samples(SequenceGroup& g, std::vector<Event>& events);
  void emit_best_beams(SequenceGroup& g, std::vector<Event>& events);
  void end_unfinished(SequenceGroup& g, const char* reason, const std::string& error, std::vector<Event>& events);
  void note_step(SequenceGroup& g, Clock::time_point now);

  const model::Tokenizer* tokenizer_;
  std::vector<std::int32_t> eos_ids_;
  int max_model_len_;
  LatencySamples latency_;
};

}  // namespace pagedserve::engine
