#include "engine/generator.hpp"

#include "model/token_vocabulary.hpp"

#include <algorithm>
#include <stdexcept>

namespace pagedserve::engine {

namespace {

EngineCoreConfig core_config(const model::ModelConfig& model, const GeneratorConfig& c) {
  EngineCoreConfig out;
  out.blocks = c.blocks;
  if (out.blocks.max_model_len == 0) out.blocks.max_model_len = model.max_seq_len;
  out.scheduler = {c.max_num_seqs, c.max_num_batched_tokens, c.preemption_mode};
  out.eos_ids = model.eos_ids;
  out.max_model_len = model.max_seq_len;
  return out;
}

RequestLimits request_limits(const model::ModelConfig& model, const GeneratorConfig& c) {
  RequestLimits l;
  l.vocab_size = model.vocab_size;
  l.max_model_len = model.max_seq_len;
  l.sliding_window = model.sliding_window;
  l.max_n = 1;  // one sample per request
  l.max_num_seqs = c.max_num_seqs;
  l.block_size = c.blocks.block_size;
  l.num_usable_gpu_blocks = c.blocks.num_usable_gpu_blocks();
  return l;
}

}  // namespace

namespace {

std::shared_ptr<ModelExecutor> executor_for(model::LlamaModel& model, const model::Tokenizer* tokenizer,
                                            const GeneratorConfig& c) {
  auto e = std::make_shared<ModelExecutor>(model, c.blocks.num_gpu_blocks, c.blocks.num_cpu_blocks, c.blocks.block_size);
  if (tokenizer)
    e->set_vocabulary(model::grammar_vocabulary(*tokenizer, model.config().vocab_size, model.config().eos_ids));
  return e;
}

}  // namespace

Generator::Generator(model::LlamaModel& model, const model::Tokenizer* tokenizer, const GeneratorConfig& config)
    : Generator(model.config(), executor_for(model, tokenizer, config), tokenizer, config) {}

Generator::Generator(const model::ModelConfig& model, std::shared_ptr<StepExecutor> executor,
                     const model::Tokenizer* tokenizer, const GeneratorConfig& config)
    : limits_(request_limits(model, config)),
      config_(config),
      executor_(std::move(executor)),
      core_(core_config(model, config), *executor_, tokenizer) {}

void Generator::check(const GenerationRequest& r, std::size_t index) const {
  GenerateRequest g;
  g.request_id = std::to_string(index);
  g.prompt_ids = r.prompt_ids;
  g.sampling = r.params;
  if (auto refused = limits_.check(g); !refused.ok())
    throw std::invalid_argument("request " + std::to_string(index) + ": " + refused.message);
}

std::vector<GenerationResult> Generator::generate(const std::vector<GenerationRequest>& requests) {
  for (std::size_t i = 0; i < requests.size(); ++i) check(requests[i], i);
  std::vector<GenerationResult> results(requests.size());
  std::vector<Event> events;
  const std::int64_t first_id = next_id_;
  for (const auto& r : requests) {
    GenerateRequest g;
    g.request_id = std::to_string(next_id_++);
    g.prompt_ids = r.prompt_ids;
    g.sampling = r.params;
    core_.add(std::move(g), events);
  }
  collect(events, results, first_id);
  const auto before = core_.scheduler().counters();
  while (core_.has_work()) {
    core_.step(events);
    note_step();
    collect(events, results, first_id);
  }
  const auto& after = core_.scheduler().counters();
  stats_.num_prompt_tokens_computed += after.num_prefill_tokens - before.num_prefill_tokens;
  stats_.num_preemptions += (after.num_preemptions_recompute - before.num_preemptions_recompute) +
                            (after.num_preemptions_swap - before.num_preemptions_swap);
  return results;
}

void Generator::collect(std::vector<Event>& events, std::vector<GenerationResult>& results, std::int64_t first_id) {
  for (auto& e : events) {
    auto& res = results[static_cast<std::size_t>(std::stoll(request_id_of(e)) - first_id)];
    if (auto* t = std::get_if<TokenEvent>(&e)) {
      res.output_ids.push_back(t->token_id);
      res.text += t->text;
      ++stats_.num_generated_tokens;
    } else if (auto* f = std::get_if<SampleFinished>(&e)) {
      if (f->finish_reason == "error") throw std::runtime_error("generation failed: " + f->error);
      res.finish_reason = f->finish_reason;
    }
  }
  events.clear();
}

void Generator::note_step() {
  ++stats_.num_steps;
  stats_.max_running = std::max(stats_.max_running, static_cast<int>(core_.scheduler().running().size()));
  if (!config_.track_utilization) return;
  const auto st = core_.blocks().stats();
  stats_.sum_tokens_stored += static_cast<double>(st.num_tokens_stored);
  stats_.sum_token_slots += static_cast<double>(st.num_token_slots);
}

}  // namespace pagedserve::engine
