#include "engine/generator.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::engine {

struct Generator::Running {
  int index = 0;                    // into the request list
  memory::SeqId seq_id = 0;
  std::vector<std::int32_t> tokens; // prompt, then output; the last may await its slot
  std::size_t prompt_len = 0;
  int num_computed = 0;             // leading tokens whose K/V are in the cache
  model::SamplingParams params;
  model::SamplerState sampler;
  std::vector<std::int32_t> output;
  std::string text;  // decoded output so far, whole UTF-8 characters

  Running(int i, const GenerationRequest& r)
      : index(i), seq_id(i), tokens(r.prompt_ids), prompt_len(r.prompt_ids.size()), params(r.params), sampler(r.params) {}
};

Generator::Generator(model::LlamaModel& model, const model::Tokenizer* tokenizer, const GeneratorConfig& config)
    : model_(model), tokenizer_(tokenizer), config_(config), blocks_(config.blocks) {
  auto spec = model.kv_spec(config.blocks.num_gpu_blocks, config.blocks.block_size, model.backend().activation_dtype());
  cache_ = model.backend().allocate_kv_cache(spec);
}

namespace {

// New tokens a request may produce: the last one needs no K/V slot, so a
// sequence may end one past the model's last position (as llama2.c does).
int effective_max_tokens(const GenerationRequest& r, int max_seq_len) {
  return std::min<int>(r.params.max_tokens, max_seq_len - static_cast<int>(r.prompt_ids.size()) + 1);
}

}  // namespace

std::vector<GenerationResult> Generator::generate(const std::vector<GenerationRequest>& requests) {
  const int max_len = model_.config().max_seq_len;
  std::vector<Running> waiting, running;
  results_.assign(requests.size(), {});
  for (int i = 0; i < static_cast<int>(requests.size()); ++i) {
    const auto& r = requests[i];
    r.params.validate();
    if (r.prompt_ids.empty()) throw std::invalid_argument("request " + std::to_string(i) + ": the prompt is empty");
    if (static_cast<int>(r.prompt_ids.size()) > max_len)
      throw std::invalid_argument("request " + std::to_string(i) + ": the prompt has " + std::to_string(r.prompt_ids.size()) +
                                  " tokens, more than the model's " + std::to_string(max_len));
    for (auto t : r.prompt_ids)
      if (t < 0 || t >= model_.config().vocab_size) throw std::invalid_argument("request " + std::to_string(i) + ": token id out of range");
    auto why = blocks_.check_fits(static_cast<std::int64_t>(r.prompt_ids.size()), std::max(0, effective_max_tokens(r, max_len) - 1));
    if (!why.empty()) throw std::invalid_argument("request " + std::to_string(i) + ": " + why);
    if (effective_max_tokens(r, max_len) <= 0) {
      results_[i].finish_reason = "length";
      continue;
    }
    waiting.emplace_back(i, r);
    waiting.back().params.max_tokens = effective_max_tokens(r, max_len);
  }
  while (!waiting.empty() || !running.empty()) {
    admit(waiting, running);
    if (running.empty()) throw std::logic_error("generator: nothing could be admitted");
    step(running);
    make_room(waiting, running);
    if (config_.track_utilization) {
      const auto st = blocks_.stats();
      stats_.sum_tokens_stored += static_cast<double>(st.num_tokens_stored);
      stats_.sum_token_slots += static_cast<double>(st.num_token_slots);
    }
  }
  return std::move(results_);
}

bool Generator::admit(std::vector<Running>& waiting, std::vector<Running>& running) {
  bool any = false;
  int step_tokens = static_cast<int>(running.size());  // one decode token each
  while (!waiting.empty() && static_cast<int>(running.size()) < config_.max_num_seqs) {
    Running& r = waiting.front();
    const int prompt = static_cast<int>(r.tokens.size());
    if (any && step_tokens + prompt > config_.max_num_batched_tokens) break;
    if (blocks_.can_allocate(r.tokens) != memory::AllocStatus::ok) break;
    step_tokens += prompt;
    r.num_computed = blocks_.allocate(r.seq_id, r.tokens);
    stats_.num_prompt_tokens_computed += static_cast<std::int64_t>(r.tokens.size()) - r.num_computed;
    running.push_back(std::move(r));
    waiting.erase(waiting.begin());
    any = true;
  }
  stats_.max_running = std::max(stats_.max_running, static_cast<int>(running.size()));
  return any;
}

// Gives every running sequence a slot for its newest token, preempting the
// newest sequences (recompute: blocks freed, requeued first) when needed.
void Generator::make_room(std::vector<Running>& waiting, std::vector<Running>& running) {
  for (std::size_t i = 0; i < running.size(); ++i) {
    Running& r = running[i];
    while (!blocks_.can_append(r.seq_id) && i + 1 < running.size()) {
      Running& victim = running.back();
      blocks_.free(victim.seq_id);
      waiting.insert(waiting.begin(), std::move(victim));
      running.pop_back();
      ++stats_.num_preemptions;
    }
    if (!blocks_.can_append(r.seq_id)) {  // the newest itself must wait
      blocks_.free(r.seq_id);
      waiting.insert(waiting.begin(), std::move(r));
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      ++stats_.num_preemptions;
      break;
    }
    auto cow = blocks_.append(r.seq_id, {&r.tokens.back(), 1});
    if (cow) model_.backend().copy_blocks(cache_, {&*cow, 1});
  }
}

void Generator::step(std::vector<Running>& running) {
  kernels::BatchMetadata meta;
  meta.query_start.push_back(0);
  for (const auto& r : running)
    meta.max_blocks_per_seq = std::max<int>(meta.max_blocks_per_seq, static_cast<int>(blocks_.block_table(r.seq_id).size()));
  for (const auto& r : running) {
    const int n = static_cast<int>(r.tokens.size());
    for (int p = r.num_computed; p < n; ++p) {
      meta.token_ids.push_back(r.tokens[p]);
      meta.positions.push_back(p);
      meta.slot_mapping.push_back(blocks_.slot(r.seq_id, p));
    }
    meta.query_start.push_back(meta.num_tokens());
    meta.context_lens.push_back(n);
    meta.logits_rows.push_back(meta.num_tokens() - 1);
    auto table = blocks_.block_table(r.seq_id);
    table.resize(meta.max_blocks_per_seq, 0);
    meta.block_tables.insert(meta.block_tables.end(), table.begin(), table.end());
  }
  std::vector<float> logits;
  model_.forward(meta, cache_, logits);
  ++stats_.num_steps;

  const int vocab = model_.config().vocab_size;
  std::vector<Running> still;
  for (std::size_t i = 0; i < running.size(); ++i) {
    Running& r = running[i];
    r.num_computed = static_cast<int>(r.tokens.size());
    blocks_.mark_computed(r.seq_id, r.num_computed);
    auto s = model::sample({logits.data() + i * vocab, static_cast<std::size_t>(vocab)}, r.params, r.sampler, r.tokens);
    r.tokens.push_back(s.token_id);
    ++stats_.num_generated_tokens;
    if (finished(r)) {
      blocks_.free(r.seq_id);
    } else {
      still.push_back(std::move(r));
    }
  }
  running = std::move(still);
}

// Records the newest token or ends the sequence; true when it has ended.
bool Generator::finished(Running& r) {
  GenerationResult& res = results_[r.index];
  const std::int32_t t = r.tokens.back();
  const auto& eos = model_.config().eos_ids;
  const bool is_eos = !r.params.ignore_eos && std::find(eos.begin(), eos.end(), t) != eos.end();
  const auto& stops = r.params.stop_token_ids;
  if (is_eos || std::find(stops.begin(), stops.end(), t) != stops.end()) {
    res.finish_reason = "stop";
  } else {
    r.output.push_back(t);
    res.output_ids = r.output;
    if (tokenizer_) {
      // Decode only the new token; a stop string can only end in its text.
      const std::size_t before = r.text.size();
      const std::int32_t prev = r.output.size() > 1 ? r.output[r.output.size() - 2] : r.tokens[r.prompt_len - 1];
      r.text += tokenizer_->decode_piece(prev, t);
      res.text = r.text;
      for (const auto& s : r.params.stop) {
        const std::size_t from = before >= s.size() ? before - s.size() + 1 : 0;
        auto at = r.text.find(s, from);
        if (at == std::string::npos) continue;
        res.text.resize(at);
        res.finish_reason = "stop";
        return true;
      }
    }
    if (static_cast<int>(r.output.size()) < r.params.max_tokens) return false;
    res.finish_reason = "length";
  }
  res.output_ids = r.output;
  return true;
}

}  // namespace pagedserve::engine
