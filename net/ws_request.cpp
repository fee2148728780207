#include "net/ws_request.hpp"

#include <boost/asio/post.hpp>
#include <variant>

#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace asio = boost::asio;

WsRequest::WsRequest(std::shared_ptr<WsSession> session, std::string id, CompletionRequest request)
    : session_(std::move(session)), id_(std::move(id)), request_(std::move(request)) {}

void WsRequest::start(const std::string& engine_id) {
  try {
    ready_ = &session_->context().require_ready();
  } catch (const ApiError& e) {
    return fail(e);
  }
  auto self = shared_from_this();
  prepare_prompts_async(
      session_->context(), *ready_, session_->strand(), request_.prompts,
      [self, engine_id](std::vector<PreparedPrompt> prompts) { self->run(std::move(prompts), engine_id); },
      [self](const ApiError& e) { self->fail(e); });
}

void WsRequest::run(std::vector<PreparedPrompt> prompts, const std::string& engine_id) {
  if (cancelled_) return send_done(Usage{});  // cancelled while its prompt was tokenized
  finish_reasons_.assign(prompts.size() * static_cast<std::size_t>(request_.params.n), "");
  try {
    generation_ = Generation::start(*ready_, session_->context().stats(), session_->strand(), shared_from_this(),
                                    request_.params, prompts, engine_id);
  } catch (const ApiError& e) {
    fail(e);
  }
}

void WsRequest::cancel() {
  cancelled_ = true;
  if (generation_) generation_->cancel();
}

void WsRequest::cut_off() {
  if (cut_off_ || ended_) return;
  cut_off_ = true;
  ++session_->context().stats().cancelled_slow_reader;
  cancel();
  fail(ApiError(500, "server_error", "the client reads too slowly; the request was cancelled", "", "slow_reader"));
}

void WsRequest::fail(const ApiError& error) {
  if (ended_) return;
  ended_ = true;
  session_->send_final(ws_error_frame(id_, error));
  session_->finished(id_);
}

void WsRequest::on_token(int choice, const actors::TokenEvent& e) {
  if (ended_) return;
  JsonWriter w;
  w.begin_object().field("type", "token").field("id", id_).field("index", choice).field("token_id", e.token_id);
  w.field("text", e.text);
  if (request_.params.want_logprobs) {
    w.field("logprob", static_cast<double>(e.logprob)).key("top_logprobs").begin_array();
    for (const auto& alt : e.top_logprobs)
      w.begin_object().field("token_id", alt.token_id).field("logprob", static_cast<double>(alt.logprob)).end_object();
    w.end_array();
  }
  session_->send(w.end_object().take());  // past the bound the session cuts every request off
}

void WsRequest::on_choice_finished(int choice, const actors::SampleFinished& e) {
  if (choice >= 0 && static_cast<std::size_t>(choice) < finish_reasons_.size())
    finish_reasons_[static_cast<std::size_t>(choice)] = e.finish_reason;
  if (e.finish_reason == "error" && error_.empty()) error_ = e.error.empty() ? "generation failed" : e.error;
}

void WsRequest::on_generation_done(const Usage& usage) {
  generation_.reset();
  if (!error_.empty()) return fail(ApiError(500, "server_error", error_));
  send_done(usage);
}

// The request's finish reason: "cancelled" if any sample was, else the first
// sample's; with several samples each one's reason is listed too.
void WsRequest::send_done(const Usage& usage) {
  if (ended_) return;
  ended_ = true;
  std::string reason = finish_reasons_.empty() ? "cancelled" : finish_reasons_.front();
  for (const auto& r : finish_reasons_)
    if (r == "cancelled") reason = r;
  JsonWriter w;
  w.begin_object().field("type", "done").field("id", id_).field("finish_reason", reason);
  if (finish_reasons_.size() > 1) {
    w.key("finish_reasons").begin_array();
    for (const auto& r : finish_reasons_) w.value(r);
    w.end_array();
  }
  w.key("usage").begin_object().field("prompt_tokens", usage.prompt_tokens);
  w.field("completion_tokens", usage.completion_tokens).end_object().end_object();
  session_->send_final(w.take());
  session_->finished(id_);
}

}  // namespace pagedserve::net
