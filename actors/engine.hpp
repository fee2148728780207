#pragma once
// The engine facade: the one door from the outside world (net/, cli/) into
// the actor system. Thread-safe: any thread may submit or cancel; events are
// delivered on actor threads, so sinks must hand them off quickly (e.g. post
// to an io_context) and never block.
//
//   net / cli --submit--> [router] --> [scheduler] <--> [block manager]
//        ^                    |              |
//        +---- RequestSink <--+         [executor]

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/admin_snapshot.hpp"
#include "engine/request.hpp"
#include "model/config.hpp"
#include "model/sampler.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::actors {

using engine::PreemptionMode;

struct EngineConfig {
  std::string model = "models/stories260K";  // path or dummy:<preset>
  std::string tokenizer;                     // optional override
  std::string device = "cpu";                // cpu | cuda:N
  // HOST:PORT of each worker that runs the model, in rank order (one per
  // rank: tensor_parallel_size x pipeline_parallel_size); empty: this process.
  std::vector<std::string> executors;
  std::string dtype = "auto";                // auto | f32 | f16 | bf16 (kernels::resolve_activation_dtype)
  std::string quantization = "none";         // none | int8: CPU weights (kernels::resolve_weight_dtype)
  bool simple_attention = false;             // CUDA: the first PagedAttention kernel
  bool enforce_eager = false;                // CUDA: no recorded (graph) decode steps
  int block_size = 16;
  int num_gpu_blocks = 0;                    // 0: size from memory (CUDA) or a default (CPU)
  double gpu_memory_utilization = 0.9;
  double swap_space_gib = 4.0;               // CPU swap pool
  PreemptionMode preemption_mode = PreemptionMode::recompute;
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  int max_model_len = 0;                     // 0: the model's max positions
  bool enable_prefix_caching = true;
  double watermark = 0.01;
  int max_waiting_requests = 1024;           // beyond this submit() says overloaded
  int max_n = 16;                            // cap on n / best_of / beam width
  int tensor_parallel_size = 1;              // ranks each layer is split across (threads, or workers)
  int pipeline_parallel_size = 1;            // stages the layers are split across (threads, or workers)
  // NCCL for --device cuda with tensor_parallel_size > 1 (kernels/nccl.hpp):
  // this file; empty: PAGEDSERVE_NCCL_LIBRARY, else libnccl.so.2 searched.
  std::string nccl_library;
};

// How the engine's backend runs: the activation type resolved against the
// checkpoint's (`checkpoint`), the attention kernel, recorded steps.
kernels::BackendOptions backend_options(const EngineConfig& config, kernels::DType checkpoint);

// The request and its events are plain engine/ types, re-exported here.
using engine::GenerateRequest;
using engine::RequestDone;
using engine::SampleFinished;
using engine::TokenEvent;
using engine::TokenLogprob;

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void on_token(const TokenEvent& e) = 0;
  virtual void on_sample_finished(const SampleFinished& e) = 0;
  virtual void on_done(const RequestDone& e) = 0;
};

using engine::SubmitError;
using engine::SubmitResult;

// Counters and gauges for /metrics and the admin console.
struct EngineMetrics {
  int num_running = 0, num_waiting = 0, num_swapped = 0;
  int gpu_blocks_total = 0, gpu_blocks_used = 0, gpu_blocks_cached = 0;
  int gpu_blocks_peak_used = 0;             // the most GPU blocks in use at once since start
  int cpu_blocks_total = 0, cpu_blocks_used = 0;
  double kv_utilization = 1.0;  // real tokens / slots in used blocks
  std::int64_t num_preemptions_swap = 0, num_preemptions_recompute = 0;
  std::int64_t prefix_queries = 0, prefix_hits = 0;
  std::int64_t num_cow_copies = 0;
  // Prompt tokens run through the model (prefix-cache hits skip theirs) and
  // tokens generated.
  std::int64_t prompt_tokens_total = 0, generation_tokens_total = 0;
  std::int64_t requests_finished = 0, num_steps = 0;
  std::vector<double> ttft_seconds;         // recent samples, for histograms
  std::vector<double> inter_token_seconds;  // recent samples
  // Tokens each step ran (prefill chunks + decodes), as counts per bucket
  // of kIterationTokenBounds (then one for more), with their sum.
  std::vector<std::int64_t> iteration_tokens_counts;
  std::int64_t iteration_tokens_sum = 0;
};

// vLLM's buckets for vllm:iteration_tokens_total.
inline const std::vector<double> kIterationTokenBounds = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

class Engine {
 public:
  virtual ~Engine() = default;
  // Loads the model, sizes the KV pools and spawns the actors. Throws
  // std::runtime_error / std::invalid_argument with a clear message.
  static std::unique_ptr<Engine> start(const EngineConfig& config);

  virtual const EngineConfig& config() const = 0;
  virtual const model::ModelConfig& model_config() const = 0;
  virtual const model::Tokenizer& tokenizer() const = 0;
  virtual int max_model_len() const = 0;

  // Validates, then queues. Invalid requests are refused here and never
  // reach the scheduler, so they cannot disturb running ones.
  virtual SubmitResult submit(GenerateRequest request, std::shared_ptr<RequestSink> sink) = 0;
  // Aborts at the next step and frees the request's blocks at once; the sink
  // gets "cancelled" then on_done. Unknown ids are ignored.
  virtual void cancel(const std::string& request_id) = 0;

  virtual EngineMetrics metrics() = 0;
  // A snapshot of one admin console view, taken by the actor that owns its
  // state (net/ writes it as JSON). A sequence that is not live gives NotLive.
  virtual AdminSnapshot admin_snapshot(const AdminQuery& query) = 0;

  // Why the engine stopped working (an actor ended, or a step failed and
  // left its state unknown); nullopt while it works. A dead engine stays
  // dead: every open request ended with an error and submit() refuses.
  virtual std::optional<std::string> dead_reason() const = 0;
  // Whether the engine answers within `timeout` and makes progress (no step
  // stuck on the device): what a watchdog should be fed on.
  virtual bool answers(std::chrono::milliseconds timeout) = 0;

  // Stops admitting; lets running requests finish until `drain` passes,
  // then cancels the rest; returns when every request is done.
  virtual void shutdown(std::chrono::milliseconds drain) = 0;
};

}  // namespace pagedserve::actors
