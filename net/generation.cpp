#include "net/generation.hpp"

#include <boost/asio/post.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <variant>

#include "net/log.hpp"

namespace pagedserve::net {

namespace {

using Clock = std::chrono::steady_clock;

// The engine's view of one prompt: hands each event to the strand, and
// measures inter-token latency and time to first token on the way.
class GenerationSink final : public actors::RequestSink {
 public:
  GenerationSink(std::shared_ptr<Generation> generation, int prompt, boost::asio::any_io_executor strand,
                 ServerStats& stats, bool measure_itl)
      : generation_(std::move(generation)), prompt_(prompt), strand_(std::move(strand)), stats_(stats),
        measure_itl_(measure_itl) {}

  void on_token(const actors::TokenEvent& e) override {
    if (measure_itl_) observe_inter_token(e.index);
    boost::asio::post(strand_, [g = generation_, p = prompt_, e] { g->deliver_token(p, e); });
  }
  void on_sample_finished(const actors::SampleFinished& e) override {
    {
      std::lock_guard lock(mu_);
      finish_reason_ = e.finish_reason;
    }
    boost::asio::post(strand_, [g = generation_, p = prompt_, e] { g->deliver_sample_finished(p, e); });
  }
  void on_done(const actors::RequestDone& e) override {
    if (e.completion_tokens > 0)
      stats_.time_to_first_token.observe(std::chrono::duration<double>(e.time_to_first_token).count());
    stats_.e2e_request_latency.observe(std::chrono::duration<double>(Clock::now() - submitted_).count());
    stats_.request_queue_time.observe(std::chrono::duration<double>(e.queue_time).count());
    stats_.prompt_tokens += e.prompt_tokens;
    {
      std::lock_guard lock(mu_);
      stats_.count_finished(finish_reason_);
    }
    boost::asio::post(strand_, [g = generation_, p = prompt_, e] { g->deliver_done(p, e); });
  }

 private:
  void observe_inter_token(int index) {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    auto [it, first] = last_token_.try_emplace(index, now);
    if (!first) {
      stats_.inter_token_latency.observe(std::chrono::duration<double>(now - it->second).count());
      it->second = now;
    }
  }

  std::shared_ptr<Generation> generation_;
  int prompt_;
  boost::asio::any_io_executor strand_;
  ServerStats& stats_;
  bool measure_itl_;
  const Clock::time_point submitted_ = Clock::now();
  std::mutex mu_;
  std::map<int, Clock::time_point> last_token_;
  std::string finish_reason_;  // the last sample's
};

}  // namespace

std::string random_hex(std::size_t num_chars) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  while (s.size() < num_chars) {
    auto bits = rng();
    for (int i = 0; i < 16 && s.size() < num_chars; ++i, bits >>= 4) s += kDigits[bits & 15];
  }
  return s;
}

std::vector<PreparedPrompt> prepare_prompts(const ReadyEngine& ready, const std::vector<PromptInput>& prompts) {
  const auto& tokenizer = ready.engine->tokenizer();
  const auto max_len = static_cast<std::size_t>(ready.max_model_len);
  auto too_long = [&](std::size_t num_tokens, std::size_t k) {
    return invalid_request("prompt",
                           "this model's maximum context length is " + std::to_string(max_len) + " tokens, but prompt " +
                               std::to_string(k) + " has " + std::to_string(num_tokens) + " tokens",
                           "context_length_exceeded");
  };
  std::vector<PreparedPrompt> out;
  for (std::size_t k = 0; k < prompts.size(); ++k) {
    const auto& p = prompts[k];
    PreparedPrompt prepared;
    if (p.is_text) {
      // Every token stands for at most max_piece_bytes of text, so a longer
      // text cannot fit: refuse it without the (superlinear) tokenization.
      const std::size_t at_least = p.text.size() / ready.max_piece_bytes;
      if (at_least > max_len) throw too_long(at_least, k);
      prepared.ids = tokenizer.encode(p.text, true);
      prepared.echo_text = p.text;
    } else {
      prepared.ids = p.ids;
      std::vector<std::int32_t> rest(p.ids.begin() + (p.ids.front() == tokenizer.bos_id() ? 1 : 0), p.ids.end());
      prepared.echo_text = tokenizer.decode(tokenizer.bos_id(), rest);
    }
    if (prepared.ids.size() > max_len) throw too_long(prepared.ids.size(), k);
    out.push_back(std::move(prepared));
  }
  return out;
}

void prepare_prompts_async(ServerContext& ctx, const ReadyEngine& ready, boost::asio::any_io_executor strand,
                           std::vector<PromptInput> prompts, std::function<void(std::vector<PreparedPrompt>)> on_ready,
                           std::function<void(const ApiError&)> on_error) {
  boost::asio::post(ctx.blocking_pool(), [&ready, strand, prompts = std::move(prompts), on_ready = std::move(on_ready),
                                          on_error = std::move(on_error)]() mutable {
    std::variant<std::vector<PreparedPrompt>, ApiError> prepared;
    try {
      prepared = prepare_prompts(ready, prompts);
    } catch (const ApiError& e) {
      prepared = e;
    } catch (const std::exception& e) {
      prepared = ApiError(500, "server_error", std::string("could not tokenize the prompt: ") + e.what());
    }
    boost::asio::post(strand, [prepared = std::move(prepared), on_ready = std::move(on_ready),
                               on_error = std::move(on_error)]() mutable {
      if (auto* e = std::get_if<ApiError>(&prepared)) return on_error(*e);
      on_ready(std::move(std::get<0>(prepared)));
    });
  });
}

std::int64_t response_tokens(const GenerationParams& params, const std::vector<PreparedPrompt>& prompts, int max_model_len) {
  const std::int64_t width = std::max({params.n, params.best_of, 1});
  const std::int64_t per_token = 1 + (params.want_logprobs ? params.sampling.logprobs : 0);
  std::int64_t total = 0;
  for (const auto& p : prompts) {
    const int max_new = engine::max_new_tokens(params.sampling.max_tokens, static_cast<int>(p.ids.size()), max_model_len);
    total += width * std::max(max_new, 0) * per_token;
  }
  return total;
}

namespace {

void check_response_size(const GenerationParams& params, const std::vector<PreparedPrompt>& prompts, const ReadyEngine& ready) {
  const auto asked = response_tokens(params, prompts, ready.max_model_len);
  if (asked <= ready.limits.max_response_tokens) return;
  throw invalid_request("max_tokens",
                        "the response could hold " + std::to_string(asked) +
                            " tokens (prompts x max(n, best_of) x max_tokens x (1 + logprobs)), more than the limit of " +
                            std::to_string(ready.limits.max_response_tokens),
                        "response_too_large");
}

}  // namespace

std::shared_ptr<Generation> Generation::start(ReadyEngine& ready, ServerStats& stats, boost::asio::any_io_executor strand,
                                              std::shared_ptr<GenerationListener> listener, const GenerationParams& params,
                                              const std::vector<PreparedPrompt>& prompts, const std::string& id_prefix) {
  check_response_size(params, prompts, ready);
  auto g = std::make_shared<Generation>(*ready.engine, params.n);
  g->id_ = id_prefix;
  // Beam search and best_of > n release their tokens at the end: their
  // spacing says nothing about decode speed.
  const bool measure_itl = !params.use_beam_search && (params.best_of == 0 || params.best_of == params.n);
  for (std::size_t k = 0; k < prompts.size(); ++k) {
    actors::GenerateRequest r;
    r.request_id = id_prefix + "-" + std::to_string(k);
    r.prompt_ids = prompts[k].ids;
    r.sampling = params.sampling;
    r.n = params.n;
    r.best_of = params.best_of;
    r.use_beam_search = params.use_beam_search;
    r.length_penalty = params.length_penalty;
    r.early_stopping = params.early_stopping;
    r.priority = params.priority;
    auto sink = std::make_shared<GenerationSink>(g, static_cast<int>(k), strand, stats, measure_itl);
    g->engine_ids_.push_back(r.request_id);
    g->request_done_.push_back(false);
    auto result = g->engine_.submit(std::move(r), std::move(sink));
    if (!result.ok()) {
      g->engine_ids_.pop_back();
      g->request_done_.pop_back();
      g->abandoned_ = true;
      g->cancel();
      throw submit_error(result);
    }
  }
  g->listener_ = std::move(listener);
  return g;
}

void Generation::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  for (std::size_t k = 0; k < engine_ids_.size(); ++k)
    if (!request_done_[k]) engine_.cancel(engine_ids_[k]);
}

void Generation::deliver_token(int prompt, const actors::TokenEvent& e) {
  if (!first_token_) first_token_ = Clock::now();
  if (abandoned_ || !listener_) return;
  listener_->on_token(prompt * n_ + e.index, e);
}

void Generation::deliver_sample_finished(int prompt, const actors::SampleFinished& e) {
  if (std::find(finish_reasons_.begin(), finish_reasons_.end(), e.finish_reason) == finish_reasons_.end())
    finish_reasons_.push_back(e.finish_reason);
  if (abandoned_ || !listener_) return;
  listener_->on_choice_finished(prompt * n_ + e.index, e);
}

void Generation::deliver_done(int prompt, const actors::RequestDone& e) {
  if (request_done_[static_cast<std::size_t>(prompt)]) return;
  request_done_[static_cast<std::size_t>(prompt)] = true;
  ++num_done_;
  usage_.prompt_tokens += e.prompt_tokens;
  usage_.completion_tokens += e.completion_tokens;
  usage_.cached_tokens += e.num_cached_prompt_tokens;
  if (abandoned_ || !done()) return;
  log_done();
  if (!listener_) return;
  auto listener = std::move(listener_);
  listener->on_generation_done(usage_);
}

namespace {

std::string milliseconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

}  // namespace

void Generation::log_done() const {
  const auto now = Clock::now();
  std::string reasons;
  for (const auto& r : finish_reasons_) reasons += (reasons.empty() ? "" : ",") + r;
  log(LogLevel::info, "request done",
      {{"id", id_},
       {"prompts", std::to_string(engine_ids_.size())},
       {"n", std::to_string(n_)},
       {"prompt_tokens", std::to_string(usage_.prompt_tokens)},
       {"cached_prompt_tokens", std::to_string(usage_.cached_tokens)},
       {"completion_tokens", std::to_string(usage_.completion_tokens)},
       {"ttft_ms", first_token_ ? milliseconds(*first_token_ - started_) : "-"},
       {"duration_ms", milliseconds(now - started_)},
       {"finish_reason", reasons.empty() ? "-" : reasons}});
}

}  // namespace pagedserve::net
