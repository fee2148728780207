#pragma once
// A request as the engine tracks it: a SequenceGroup of one or more
// Sequences sharing one prompt (n / best_of samples, or beams).
//
//   group "r1" (best_of 3)       prompt blocks shared after the fork
//     seq 10 [prompt | a b c]  -+
//     seq 11 [prompt | d e]     +- forks of seq 10 after the prompt's prefill
//     seq 12 [prompt | f g h]  -+
//
// Sequence invariants: prompt_len <= token_ids.size(); 0 <= num_computed
// <= token_ids.size(); the tokens after num_computed are the ones the next
// steps compute (the newest sampled token, or a prompt chunk);
// holds_blocks is true exactly while the block manager has the sequence,
// and then num_slotted equals the block manager's token count for it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/output_text.hpp"
#include "engine/request.hpp"
#include "memory/block_manager.hpp"

namespace pagedserve::engine {

using memory::SeqId;
using Clock = std::chrono::steady_clock;

enum class SeqStatus : std::uint8_t { waiting, running, swapped, finished };
const char* status_name(SeqStatus s);

struct Sequence {
  Sequence(SeqId id, int sample_index, const std::vector<std::int32_t>& prompt, OutputText output_text);

  SeqId seq_id = 0;
  int index = 0;                         // which sample of the request
  std::vector<std::int32_t> token_ids;   // prompt, then output
  int prompt_len = 0;
  int num_computed = 0;                  // leading tokens whose K/V are in the cache
  int num_slotted = 0;                   // tokens the block manager has slots for
  SeqStatus status = SeqStatus::waiting;
  double cumulative_logprob = 0;
  std::vector<float> output_logprobs;    // of each output token
  std::string finish_reason;
  bool holds_blocks = false;
  bool has_sampler = false;              // the executor keeps a sampler state for it
  OutputText text;

  int num_tokens() const { return static_cast<int>(token_ids.size()); }
  int num_output_tokens() const { return num_tokens() - prompt_len; }
  int num_uncomputed() const { return num_tokens() - num_computed; }
  int num_unslotted() const { return num_tokens() - num_slotted; }
  bool is_finished() const { return status == SeqStatus::finished; }
  std::span<const std::int32_t> output_ids() const {
    return std::span<const std::int32_t>(token_ids).subspan(static_cast<std::size_t>(prompt_len));
  }
};

// A finished beam kept aside while the search goes on.
struct BeamHypothesis {
  std::vector<std::int32_t> output_ids;  // without a final eos / stop token
  std::vector<float> output_logprobs;
  double cumulative_logprob = 0;
  std::string finish_reason;
  double score = 0;                      // length-penalized
};

// Invariants: seqs[0] exists from the start; before the fork only seqs[0]
// lives; reserved_ids holds width() ids, reserved_ids[0] == seqs[0]->seq_id;
// a group is in exactly one scheduler queue until it is over.
class SequenceGroup {
 public:
  SequenceGroup(GenerateRequest request, std::vector<SeqId> reserved_ids, std::uint64_t arrival_seq,
                int max_new_tokens, const model::Tokenizer* tokenizer);

  const std::string& request_id() const { return request_.request_id; }
  const GenerateRequest& request() const { return request_; }
  const model::SamplingParams& params() const { return request_.sampling; }
  const std::shared_ptr<const model::SamplingParams>& shared_params() const { return params_; }
  int priority() const { return request_.priority; }
  std::uint64_t arrival_seq() const { return arrival_seq_; }
  Clock::time_point arrival_time() const { return arrival_time_; }
  int max_new_tokens() const { return max_new_tokens_; }
  int prompt_len() const { return static_cast<int>(request_.prompt_ids.size()); }

  bool is_beam_search() const { return request_.use_beam_search; }
  int width() const;             // best_of, or the beam width
  int num_returned() const { return request_.n; }
  // Tokens stream as they come unless the returned samples are chosen at the end.
  bool streams() const { return !is_beam_search() && width() == num_returned(); }
  // Sequences this group may run at once (counted at admission).
  int max_num_running_seqs() const;

  std::vector<std::unique_ptr<Sequence>> seqs;
  const std::vector<SeqId>& reserved_ids() const { return reserved_ids_; }
  Sequence* find(SeqId id);
  std::vector<Sequence*> live_seqs();
  int num_live_seqs() const;
  // f(Sequence&) for each live sequence, without allocating (the step loop's hot path).
  template <class F>
  void for_each_live(F&& f) {
    for (auto& s : seqs)
      if (!s->is_finished()) f(*s);
  }
  void set_status(SeqStatus s);  // of every live sequence

  // Sharing and beam search bookkeeping.
  bool forked = false;
  std::vector<BeamHypothesis> finished_beams;

  // Lifetime.
  bool over = false;        // finished, cancelled or refused: no more steps
  std::string error;        // why it was refused, if it was
  int num_cached_prompt_tokens = 0;
  int num_completion_tokens = 0;  // of the returned samples
  bool admitted_once = false;
  std::optional<Clock::time_point> first_token_time;
  std::optional<Clock::time_point> first_scheduled_time;  // first admission: the end of its wait in the queue
  std::optional<Clock::time_point> last_token_time;

 private:
  GenerateRequest request_;
  std::shared_ptr<const model::SamplingParams> params_;
  std::vector<SeqId> reserved_ids_;
  std::uint64_t arrival_seq_;
  Clock::time_point arrival_time_;
  int max_new_tokens_;
};

// Scheduling order: lower priority value first, then arrival.
inline bool runs_before(const SequenceGroup& a, const SequenceGroup& b) {
  return a.priority() != b.priority() ? a.priority() < b.priority() : a.arrival_seq() < b.arrival_seq();
}

}  // namespace pagedserve::engine
