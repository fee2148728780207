#pragma once
// An offline generation loop: runs a list of prompts concurrently through
// the model with paged KV memory, iteration by iteration (finished sequences
// leave the batch, waiting ones join). When blocks run out, the newest
// sequence is preempted by recompute. The actor runtime serves online
// traffic; this loop serves `pagedserve generate`, tests and benchmarks.

#include <cstdint>
#include <string>
#include <vector>

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
  int max_num_batched_tokens = 8192;  // prompt tokens admitted per step (one prompt may exceed it)
  bool track_utilization = false;  // costs a scan of the pool per step
};

class Generator {
 public:
  // `tokenizer` may be null (no stop strings, no text).
  Generator(model::LlamaModel& model, const model::Tokenizer* tokenizer, const GeneratorConfig& config);

  // Throws std::invalid_argument when a request can never fit.
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests);
  const GeneratorStats& stats() const { return stats_; }
  const memory::BlockManager& block_manager() const { return blocks_; }

 private:
  struct Running;
  bool admit(std::vector<Running>& waiting, std::vector<Running>& running);
  void make_room(std::vector<Running>& waiting, std::vector<Running>& running);
  void step(std::vector<Running>& running);
  bool finished(Running& r);

  model::LlamaModel& model_;
  const model::Tokenizer* tokenizer_;
  GeneratorConfig config_;
  memory::BlockManager blocks_;
  kernels::KvCache cache_;
  std::vector<GenerationResult> results_;
  GeneratorStats stats_;
};

}  // namespace pagedserve::engine
