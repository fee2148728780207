#pragma once
// One client request in the engine: its prompts submitted as engine
// requests (one per prompt, each with n samples), their events brought back
// onto the connection's strand, and the choices numbered as OpenAI does
// (choice = prompt_index * n + sample index).
//
//   engine actor thread             connection strand
//   GenerationSink::on_token --post--> Generation::on_token --> listener
//
// Invariants: every listener call happens on the strand; the listener hears
// on_generation_done exactly once, after every engine request is done, and
// is released then (breaking the listener <-> generation cycle).

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "net/completion_format.hpp"
#include "net/completion_request.hpp"
#include "net/server_context.hpp"

namespace pagedserve::net {

struct PreparedPrompt {
  std::vector<std::int32_t> ids;
  std::string echo_text;  // the prompt as text (for echo)
};

// `num_chars` random hex digits: the unique part of response ids.
std::string random_hex(std::size_t num_chars);

// Tokenizes text prompts and checks every prompt against the context
// length. Slow for long texts (BPE), so it runs on the blocking pool; a text
// too long to possibly fit is refused before tokenizing. Throws ApiError.
std::vector<PreparedPrompt> prepare_prompts(const ReadyEngine& ready, const std::vector<PromptInput>& prompts);

// prepare_prompts on the context's blocking pool; then, on `strand`,
// `on_ready` with the prompts or `on_error` with the refusal (an unexpected
// tokenizer failure is a 500).
void prepare_prompts_async(ServerContext& ctx, const ReadyEngine& ready, boost::asio::any_io_executor strand,
                           std::vector<PromptInput> prompts, std::function<void(std::vector<PreparedPrompt>)> on_ready,
                           std::function<void(const ApiError&)> on_error);

// The most token entries one request's answer can hold, which
// max_response_tokens bounds: summed over the prompts,
//   max(n, best_of) x min(max_tokens, max_model_len - prompt length + 1)
//                   x (1 + logprobs alternatives per token, when asked for).
std::int64_t response_tokens(const GenerationParams& params, const std::vector<PreparedPrompt>& prompts, int max_model_len);

class GenerationListener {
 public:
  virtual ~GenerationListener() = default;
  virtual void on_token(int choice, const actors::TokenEvent& e) = 0;
  virtual void on_choice_finished(int choice, const actors::SampleFinished& e) = 0;
  virtual void on_generation_done(const Usage& usage) = 0;
};

class Generation : public std::enable_shared_from_this<Generation> {
 public:
  // Submits one engine request per prompt (ids "<id_prefix>-<k>"). A
  // request past max_response_tokens is refused (400 response_too_large)
  // before any is submitted; when the engine refuses one, those already
  // submitted are cancelled and the refusal is thrown as an ApiError. Call
  // on `strand`.
  static std::shared_ptr<Generation> start(ReadyEngine& ready, ServerStats& stats, boost::asio::any_io_executor strand,
                                           std::shared_ptr<GenerationListener> listener, const GenerationParams& params,
                                           const std::vector<PreparedPrompt>& prompts, const std::string& id_prefix);

  // Asks the engine to stop every unfinished request (idempotent); the
  // listener still hears the cancelled choices and on_generation_done.
  void cancel();
  bool done() const { return num_done_ == static_cast<int>(engine_ids_.size()); }
  int num_choices() const { return static_cast<int>(engine_ids_.size()) * n_; }

  // Called on the strand by the sinks.
  void deliver_token(int prompt, const actors::TokenEvent& e);
  void deliver_sample_finished(int prompt, const actors::SampleFinished& e);
  void deliver_done(int prompt, const actors::RequestDone& e);

  Generation(actors::Engine& engine, int n) : engine_(engine), n_(n) {}

 private:
  // The request's line in the log, once every prompt is done.
  void log_done() const;

  actors::Engine& engine_;
  int n_;
  std::string id_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> first_token_;
  std::vector<std::string> finish_reasons_;  // each reason once, in the order first seen
  std::vector<std::string> engine_ids_;
  std::vector<bool> request_done_;
  int num_done_ = 0;
  bool abandoned_ = false;  // a submit was refused: events are dropped
  bool cancelled_ = false;
  Usage usage_;
  std::shared_ptr<GenerationListener> listener_;
};

}  // namespace pagedserve::net
