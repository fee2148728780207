#include "net/responses_run.hpp"

#include <ctime>

namespace pagedserve::net {

namespace {

// The answer as the next turn's template sees it: its text, or an
// assistant message with its tool calls.
ChatMessage assistant_turn(const ChatMessageOut& m) {
  ChatMessage turn{"assistant", m.content.value_or("")};
  if (m.tool_calls.empty()) return turn;
  jinja::List calls;
  for (const auto& c : m.tool_calls)
    calls.push_back(jinja::Value::dict(
        {{"id", jinja::Value(c.id)},
         {"type", jinja::Value("function")},
         {"function", jinja::Value::dict({{"name", jinja::Value(c.name)}, {"arguments", jinja::Value(c.arguments)}})}}));
  turn.fields = jinja::Value::dict({{"role", jinja::Value("assistant")},
                                    {"content", m.content ? jinja::Value(*m.content) : jinja::Value::none()},
                                    {"tool_calls", jinja::Value::list(std::move(calls))}});
  return turn;
}

}  // namespace

std::shared_ptr<ResponseRun> ResponseRun::start(ServerContext& ctx, ReadyEngine& ready,
                                                boost::asio::any_io_executor strand,
                                                std::shared_ptr<ResponseOutput> output, ResponsesRequest request) {
  auto run = std::make_shared<ResponseRun>(ctx, ready, strand, std::move(output), std::move(request));
  const auto& previous = run->request_.previous_response_id;
  if (!previous.empty()) {
    auto history = ctx.responses().get(previous);
    if (!history)
      throw ApiError(404, "invalid_request_error",
                     "previous response '" + previous + "' not found (responses are kept in memory, the latest " +
                         std::to_string(ctx.options().max_stored_responses) + " at most)",
                     "previous_response_id", "previous_response_not_found");
    run->conversation_ = std::move(*history);
  }
  run->conversation_.insert(run->conversation_.end(), run->request_.input.begin(), run->request_.input.end());
  std::vector<ChatMessage> messages;
  if (!run->request_.instructions.empty()) messages.push_back({"system", run->request_.instructions});
  messages.insert(messages.end(), run->conversation_.begin(), run->conversation_.end());
  const ChatPrompt prompt = render_chat(ready.chat_template.get(), messages, run->request_.options);
  run->chat_output_.emplace(chat_output_options(run->request_.tools.choice, ready.tool_call_format, ready.reasoning_parser,
                                                !run->request_.params.sampling.constraint.empty(), prompt.text));
  prepare_prompts_async(
      ctx, ready, strand, {PromptInput{true, prompt.text, {}, prompt.add_special_tokens}},
      [run](std::vector<PreparedPrompt> prompts) { run->run(std::move(prompts)); },
      [run](const ApiError& e) { run->fail(e); });
  return run;
}

ResponseRun::ResponseRun(ServerContext& ctx, ReadyEngine& ready, boost::asio::any_io_executor strand,
                         std::shared_ptr<ResponseOutput> output, ResponsesRequest request)
    : ctx_(ctx), ready_(ready), strand_(std::move(strand)), output_(std::move(output)), request_(std::move(request)) {
  state_.id = "resp_" + random_hex(32);
  state_.model = ctx_.served_model_name();
  state_.created_at = static_cast<std::int64_t>(std::time(nullptr));
  state_.request = &request_;
}

void ResponseRun::fail(const ApiError& error) {
  over_ = true;
  output_->refuse(error);
}

void ResponseRun::run(std::vector<PreparedPrompt> prompts) {
  if (cancelled_) return fail(ApiError(400, "invalid_request_error", "the response was cancelled", "", "cancelled"));
  auto& params = request_.params;
  if (!params.max_tokens_given)  // as chat: the rest of the context
    params.sampling.max_tokens = std::max(0, ready_.max_model_len - static_cast<int>(prompts.front().ids.size()));
  try {
    generation_ = Generation::start(ready_, ctx_.stats(), strand_, shared_from_this(), params, prompts, state_.id);
  } catch (const ApiError& e) {
    return fail(e);
  }
  if (!params.stream) return;
  send(response_event("response.created", sequence_++, state_));
  send(response_event("response.in_progress", sequence_++, state_));
}

namespace {

const char* item_prefix(ResponseItem::Type type) {
  switch (type) {
    case ResponseItem::Type::reasoning: return "rs_";
    case ResponseItem::Type::message: return "msg_";
    case ResponseItem::Type::function_call: return "fc_";
  }
  return "";
}

}  // namespace

std::size_t ResponseRun::open_item(ResponseItem::Type type, std::string call_id, std::string name) {
  if (open_ && state_.output[*open_].type == type && type != ResponseItem::Type::function_call) return *open_;
  close_open_item();
  ResponseItem item;
  item.type = type;
  item.id = item_prefix(type) + random_hex(32);
  item.call_id = std::move(call_id);
  item.name = std::move(name);
  state_.output.push_back(std::move(item));
  const std::size_t index = state_.output.size() - 1;
  open_ = index;
  send(output_item_event("response.output_item.added", sequence_++, state_, index));
  if (type == ResponseItem::Type::message) send(content_part_event("response.content_part.added", sequence_++, state_, index));
  return index;
}

void ResponseRun::grow(std::size_t index, std::string_view text) {
  if (text.empty()) return;
  state_.output[index].text += text;
  send(text_delta_event(sequence_++, state_, index, text));
}

void ResponseRun::close_open_item() {
  if (!open_) return;
  const std::size_t index = *open_;
  open_.reset();
  state_.output[index].done = true;
  send(text_done_event(sequence_++, state_, index));
  if (state_.output[index].type == ResponseItem::Type::message)
    send(content_part_event("response.content_part.done", sequence_++, state_, index));
  send(output_item_event("response.output_item.done", sequence_++, state_, index));
}

void ResponseRun::stream(const ChatDelta& d) {
  if (!d.reasoning.empty()) grow(open_item(ResponseItem::Type::reasoning), d.reasoning);
  if (!d.content.empty()) grow(open_item(ResponseItem::Type::message), d.content);
  for (const auto& piece : d.tool_calls) {
    if (piece.first) call_items_.push_back(open_item(ResponseItem::Type::function_call, piece.id, piece.name));
    else if (static_cast<std::size_t>(piece.index) < call_items_.size()) grow(call_items_[piece.index], piece.arguments);
  }
}

void ResponseRun::set_items(const ChatMessageOut& m) {
  state_.output.clear();
  auto add = [&](ResponseItem::Type type, std::string text) -> ResponseItem& {
    ResponseItem item;
    item.type = type;
    item.id = item_prefix(type) + random_hex(32);
    item.text = std::move(text);
    item.done = true;
    state_.output.push_back(std::move(item));
    return state_.output.back();
  };
  if (!m.reasoning.empty()) add(ResponseItem::Type::reasoning, m.reasoning);
  if (m.content || m.tool_calls.empty()) add(ResponseItem::Type::message, m.content.value_or(""));
  for (const auto& call : m.tool_calls) {
    auto& item = add(ResponseItem::Type::function_call, call.arguments);
    item.call_id = call.id;
    item.name = call.name;
  }
}

void ResponseRun::send(ResponseEvent event) {
  if (cancelled_) return;
  if (!output_->event(std::move(event))) {
    ++ctx_.stats().cancelled_slow_reader;
    state_.error = "the client read the stream too slowly; the response was cancelled";
    cancel();
  }
}

void ResponseRun::cancel() {
  cancelled_ = true;
  if (generation_ && !generation_->done()) generation_->cancel();
}

void ResponseRun::on_token(int, const actors::TokenEvent& e) {
  const ChatDelta d = chat_output_->feed(e.text);
  if (request_.params.stream) stream(d);
}

void ResponseRun::on_choice_finished(int, const actors::SampleFinished& e) {
  finish_reason_ = e.finish_reason;
  if (e.finish_reason == "error") {
    state_.error = e.error.empty() ? "generation failed" : e.error;
    return;
  }
  const ChatDelta d = chat_output_->finish(finish_reason_);
  message_ = chat_output_->message();
  if (request_.params.stream) stream(d);
}

void ResponseRun::on_generation_done(const Usage& usage) {
  generation_.reset();
  over_ = true;
  state_.usage = usage;
  if (finish_reason_ == "cancelled" && state_.error.empty()) state_.error = "the response was cancelled";
  state_.status = !state_.error.empty() ? "failed" : finish_reason_ == "length" ? "incomplete" : "completed";
  if (state_.status == "failed") {
    output_->finish(state_, response_event("response.failed", sequence_++, state_));
    return;
  }
  if (request_.params.stream) {
    bool answered = false;  // a message or a call: else an empty message, as a plain request shows
    for (const auto& item : state_.output) answered |= item.type != ResponseItem::Type::reasoning;
    if (!answered) open_item(ResponseItem::Type::message);
    close_open_item();
  } else {
    set_items(message_);
  }
  if (request_.store) {
    conversation_.push_back(assistant_turn(message_));
    ctx_.responses().put(state_.id, std::move(conversation_));
  }
  const char* last = state_.status == "incomplete" ? "response.incomplete" : "response.completed";
  output_->finish(state_, response_event(last, sequence_++, state_));
}

}  // namespace pagedserve::net
