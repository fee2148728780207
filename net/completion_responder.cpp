#include "net/completion_responder.hpp"

#include <boost/asio/post.hpp>
#include <ctime>
#include <variant>

#include "net/log.hpp"
#include "net/sse.hpp"

namespace pagedserve::net {

namespace asio = boost::asio;

namespace {

}  // namespace

CompletionResponder::CompletionResponder(std::shared_ptr<HttpSession> session, bool chat)
    : session_(std::move(session)), chat_(chat) {}

void CompletionResponder::start(std::shared_ptr<HttpSession> session, bool chat, std::string body) {
  auto& ready = session->context().require_ready();
  auto r = std::make_shared<CompletionResponder>(session, chat);
  r->ready_ = &ready;
  r->parse(body, ready);
  prepare_prompts_async(
      session->context(), ready, session->strand(), r->prompts_,
      [r](std::vector<PreparedPrompt> prompts) { r->run(std::move(prompts)); },
      [r](const ApiError& e) { r->session_->send_error(e); });
}

void CompletionResponder::parse(const std::string& body, const ReadyEngine& ready) {
  auto& ctx = session_->context();
  if (chat_) {
    auto request = parse_chat_request(body, ready.limits);
    params_ = std::move(request.params);
    const ChatPrompt prompt = render_chat(ready.chat_template.get(), request.messages, request.options);
    prompts_.push_back(PromptInput{true, prompt.text, {}, prompt.add_special_tokens});
    auto options = chat_output_options(request.tools.choice, ready.tool_call_format, ready.reasoning_parser,
                                       !params_.sampling.constraint.empty(), prompt.text);
    if (splits_output(options)) output_options_ = std::move(options);
  } else {
    auto request = parse_completion_request(body, ready.limits);
    params_ = std::move(request.params);
    prompts_ = std::move(request.prompts);
    echo_ = request.echo;
  }
  if (auto refused = ctx.check_model(params_.model)) throw *refused;
  meta_.id = (chat_ ? "chatcmpl-" : "cmpl-") + random_hex(24);
  meta_.created = static_cast<std::int64_t>(std::time(nullptr));
  meta_.model = ctx.served_model_name();
}

void CompletionResponder::run(std::vector<PreparedPrompt> prompts) {
  if (chat_ && !params_.max_tokens_given)  // chat's default: the rest of the context
    params_.sampling.max_tokens = std::max(0, ready_->max_model_len - static_cast<int>(prompts.front().ids.size()));
  const auto num_choices = prompts.size() * static_cast<std::size_t>(params_.n);
  choices_.resize(num_choices);
  role_sent_.assign(num_choices, false);
  if (output_options_)
    for (std::size_t c = 0; c < num_choices; ++c) outputs_.emplace_back(*output_options_);
  for (std::size_t c = 0; c < num_choices; ++c) {
    const auto& p = prompts[c / static_cast<std::size_t>(params_.n)];
    prev_token_.push_back(p.ids.back());
    if (echo_) choices_[c].text = p.echo_text;
  }
  try {
    generation_ = Generation::start(*ready_, session_->context().stats(), session_->strand(), shared_from_this(), params_,
                                    prompts, meta_.id);
  } catch (const ApiError& e) {
    return session_->send_error(e);
  }
  session_->watch_for_disconnect([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || !self->generation_ || self->generation_->done()) return;
    ++self->session_->context().stats().cancelled_by_client;
    self->generation_->cancel();
  });
  if (!params_.stream) return;
  session_->begin_event_stream();
  if (echo_)
    for (std::size_t c = 0; c < num_choices; ++c)
      session_->stream_event(sse_event(chunk_for(static_cast<int>(c), choices_[c].text, nullptr, "")));
}

LogprobEntry CompletionResponder::logprob_entry(int choice, const actors::TokenEvent& e) const {
  const auto& tokenizer = ready_->engine->tokenizer();
  const auto prev = prev_token_[static_cast<std::size_t>(choice)];
  auto name = [&](std::int32_t id) {
    return params_.return_tokens_as_token_ids ? "token_id:" + std::to_string(id) : tokenizer.decode_piece(prev, id);
  };
  LogprobEntry entry;
  entry.token = name(e.token_id);
  entry.logprob = e.logprob;
  entry.text_offset = choices_[static_cast<std::size_t>(choice)].text.size();
  for (const auto& alt : e.top_logprobs) entry.top.emplace_back(name(alt.token_id), alt.logprob);
  return entry;
}

std::string CompletionResponder::chunk_for(int choice, std::string_view text, const LogprobEntry* lp,
                                           std::string_view finish) const {
  if (!chat_) return completion_chunk(meta_, choice, text, lp, finish);
  const bool first = !role_sent_[static_cast<std::size_t>(choice)];
  return chat_chunk(meta_, choice, first ? "assistant" : "", text, lp, finish);
}

bool CompletionResponder::stream_chat_delta(int choice, const ChatDelta& delta, const LogprobEntry* lp) {
  const bool sent_role = role_sent_[static_cast<std::size_t>(choice)];
  if (delta.empty() && !lp && sent_role) return true;  // all held back: nothing to say yet
  ChatChunkDelta first{sent_role ? "" : "assistant", delta.reasoning, delta.content,
                       delta.tool_calls.empty() ? nullptr : &delta.tool_calls.front()};
  bool ok = session_->stream_event(sse_event(chat_chunk(meta_, choice, first, lp, "")));
  role_sent_[static_cast<std::size_t>(choice)] = true;
  for (std::size_t i = 1; ok && i < delta.tool_calls.size(); ++i)
    ok = session_->stream_event(sse_event(chat_chunk(meta_, choice, ChatChunkDelta{"", "", "", &delta.tool_calls[i]},
                                                     nullptr, "")));
  return ok;
}

void CompletionResponder::on_token(int choice, const actors::TokenEvent& e) {
  if (choice < 0 || static_cast<std::size_t>(choice) >= choices_.size()) return;
  auto& c = choices_[static_cast<std::size_t>(choice)];
  std::optional<LogprobEntry> entry;
  if (params_.want_logprobs) entry = logprob_entry(choice, e);
  c.text += e.text;
  ++c.num_tokens;
  prev_token_[static_cast<std::size_t>(choice)] = e.token_id;
  std::optional<ChatDelta> delta;
  if (!outputs_.empty()) delta = outputs_[static_cast<std::size_t>(choice)].feed(e.text);
  if (!params_.stream) {
    if (entry) c.logprobs.push_back(std::move(*entry));
    return;
  }
  if (slow_reader_) return;
  const LogprobEntry* lp = entry ? &*entry : nullptr;
  bool sent = true;
  if (delta) {
    sent = stream_chat_delta(choice, *delta, lp);
  } else {
    sent = session_->stream_event(sse_event(chunk_for(choice, e.text, lp, "")));
    role_sent_[static_cast<std::size_t>(choice)] = true;
  }
  if (!sent) cut_off_slow_reader();
}

void CompletionResponder::on_choice_finished(int choice, const actors::SampleFinished& e) {
  if (choice < 0 || static_cast<std::size_t>(choice) >= choices_.size()) return;
  auto& c = choices_[static_cast<std::size_t>(choice)];
  c.finish_reason = e.finish_reason;
  if (e.finish_reason == "error") error_ = e.error.empty() ? "generation failed" : e.error;
  std::optional<ChatDelta> delta;
  if (!outputs_.empty() && e.finish_reason != "error") {
    auto& output = outputs_[static_cast<std::size_t>(choice)];
    delta = output.finish(c.finish_reason);
    c.message = output.message();
  }
  if (!params_.stream || slow_reader_ || e.finish_reason == "error") return;
  bool sent = !delta || stream_chat_delta(choice, *delta, nullptr);
  if (sent) sent = session_->stream_event(sse_event(chunk_for(choice, "", nullptr, c.finish_reason)));
  if (!sent) cut_off_slow_reader();
  role_sent_[static_cast<std::size_t>(choice)] = true;
}

void CompletionResponder::cut_off_slow_reader() {
  if (slow_reader_) return;
  slow_reader_ = true;
  ++session_->context().stats().cancelled_slow_reader;
  log(LogLevel::warning, meta_.id + ": the client reads the stream too slowly; cancelling the request");
  generation_->cancel();
}

void CompletionResponder::on_generation_done(const Usage& usage) {
  generation_.reset();
  if (!params_.stream) {
    if (!error_.empty()) return session_->send_error(ApiError(500, "server_error", error_));
    const bool lp = params_.want_logprobs;
    auto body = chat_ ? chat_body(meta_, choices_, lp, usage) : completion_body(meta_, choices_, lp, usage);
    return session_->send_response(
        json_response(http::status::ok, std::move(body), session_->request_version(), session_->request_keep_alive()));
  }
  std::string last;
  if (slow_reader_)
    last += sse_event(error_body(ApiError(500, "server_error",
                                          "the client read the stream too slowly; the request was cancelled", "",
                                          "slow_reader")));
  else if (!error_.empty())
    last += sse_event(error_body(ApiError(500, "server_error", error_)));
  if (params_.include_usage) last += sse_event(usage_chunk(meta_, chat_ ? "chat.completion.chunk" : "text_completion", usage));
  last += kSseDone;
  session_->end_event_stream(std::move(last));
}

}  // namespace pagedserve::net
