#pragma once
// Offline generation: runs a list of prompts through the engine loop
// (EngineCore: the scheduler, the block manager, the model executor and the
// output processor, as the actors run them) until every one has finished,
// and returns their outputs in order. For benchmarks and tests that want
// whole results rather than events; `pagedserve generate` and the server
// use the actor runtime.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_core.hpp"
#include "engine/model_executor.hpp"
#include "engine/request_limits.hpp"
#include "memory/block_manager.hpp"
#include "model/llama.hpp"
#include "model/sampler.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::engine {

struct GenerationRequest {
  std::vector<std::int32_t> prompt_ids;
  model::SamplingParams params;
};

struct GenerationResult {
  std::vector<std::int32_t> output_ids;
  std::string text;           // decoded output (stop string removed)
  std::string finish_reason;  // "stop" or "length"
};

struct GeneratorStats {
  std::int64_t num_steps = 0;
  std::int64_t num_prompt_tokens_computed = 0;
  std::int64_t num_generated_tokens = 0;
  std::int64_t num_preemptions = 0;
  int max_running = 0;
  // With GeneratorConfig::track_utilization: summed over steps.
  double sum_tokens_stored = 0;
  double sum_token_slots = 0;
  double utilization() const { return sum_token_slots > 0 ? sum_tokens_stored / sum_token_slots : 1.0; }
};

struct GeneratorConfig {
  memory::BlockManagerConfig blocks;
  int max_num_seqs = 256;
  int max_num_batched_tokens = 8192;  // tokens per step (prefill chunks + decodes)
  PreemptionMode preemption_mode = PreemptionMode::recompute;
  bool track_utilization = false;  // costs a scan of the pool per step
};

class Generator {
 public:
  // Borrows `model` (and its backend), which must outlive the generator.
  // `tokenizer` may be null (no stop strings, no text).
  Generator(model::LlamaModel& model, const model::Tokenizer* tokenizer, const GeneratorConfig& config);
  // Runs `model` on `executor` (a model split over ranks: actors'
  // build_parallel_executor), whose pools config.blocks describes.
  Generator(const model::ModelConfig& model, std::shared_ptr<StepExecutor> executor, const model::Tokenizer* tokenizer,
            const GeneratorConfig& config);

  // Throws std::invalid_argument, naming the request, when one is invalid
  // or can never fit; then nothing runs.
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests);
  const GeneratorStats& stats() const { return stats_; }
  const memory::BlockManager& block_manager() const { return core_.blocks(); }

 private:
  void check(const GenerationRequest& r, std::size_t index) const;
  // Moves the events into the results of requests first_id, first_id + 1, ...
  void collect(std::vector<Event>& events, std::vector<GenerationResult>& results, std::int64_t first_id);
  void note_step();

  RequestLimits limits_;
  GeneratorConfig config_;
  std::shared_ptr<StepExecutor> executor_;
  EngineCore core_;
  GeneratorStats stats_;
  std::int64_t next_id_ = 0;  // request ids stay unique across generate() calls
};

}  // namespace pagedserve::engine
