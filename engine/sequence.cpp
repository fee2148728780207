#include "engine/sequence.hpp"

#include <algorithm>

namespace pagedserve::engine {

const char* status_name(SeqStatus s) {
  switch (s) {
    case SeqStatus::waiting: return "waiting";
    case SeqStatus::running: return "running";
    case SeqStatus::swapped: return "swapped";
    case SeqStatus::finished: return "finished";
  }
  return "?";
}

Sequence::Sequence(SeqId id, int sample_index, const std::vector<std::int32_t>& prompt, OutputText output_text)
    : seq_id(id), index(sample_index), token_ids(prompt), prompt_len(static_cast<int>(prompt.size())),
      text(std::move(output_text)) {}

SequenceGroup::SequenceGroup(GenerateRequest request, std::vector<SeqId> reserved_ids, std::uint64_t arrival_seq,
                             int max_new_tokens, const model::Tokenizer* tokenizer)
    : request_(std::move(request)),
      params_(std::make_shared<const model::SamplingParams>(request_.sampling)),
      reserved_ids_(std::move(reserved_ids)),
      arrival_seq_(arrival_seq),
      arrival_time_(Clock::now()),
      max_new_tokens_(max_new_tokens) {
  const auto& prompt = request_.prompt_ids;
  const std::int32_t prev = prompt.empty() ? 0 : prompt.back();
  seqs.push_back(std::make_unique<Sequence>(reserved_ids_.at(0), 0, prompt,
                                            OutputText(tokenizer, prev, request_.sampling.stop)));
}

int SequenceGroup::width() const {
  return std::max({request_.n, request_.best_of, 1});
}

int SequenceGroup::max_num_running_seqs() const {
  return is_beam_search() || !forked ? width() : num_live_seqs();
}

Sequence* SequenceGroup::find(SeqId id) {
  for (auto& s : seqs)
    if (s->seq_id == id) return s.get();
  return nullptr;
}

std::vector<Sequence*> SequenceGroup::live_seqs() {
  std::vector<Sequence*> live;
  for (auto& s : seqs)
    if (!s->is_finished()) live.push_back(s.get());
  return live;
}

int SequenceGroup::num_live_seqs() const {
  return static_cast<int>(std::count_if(seqs.begin(), seqs.end(), [](const auto& s) { return !s->is_finished(); }));
}

void SequenceGroup::set_status(SeqStatus st) {
  for (auto& s : seqs)
    if (!s->is_finished()) s->status = st;
}

}  // namespace pagedserve::engine
