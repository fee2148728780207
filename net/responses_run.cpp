#include "net/responses_run.hpp"

#include <ctime>

namespace pagedserve::net {

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
  const ChatPrompt prompt = render_chat(ready.chat_template.get(), messages, ChatOptions{});
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
  state_.message_id = "msg_" + random_hex(32);
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
  send(output_item_event("response.output_item.added", sequence_++, state_));
  send(content_part_event("response.content_part.added", sequence_++, state_));
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
  state_.text += e.text;
  if (request_.params.stream && !e.text.empty()) send(text_delta_event(sequence_++, state_, e.text));
}

void ResponseRun::on_choice_finished(int, const actors::SampleFinished& e) {
  finish_reason_ = e.finish_reason;
  if (e.finish_reason == "error") state_.error = e.error.empty() ? "generation failed" : e.error;
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
    send(text_done_event(sequence_++, state_));
    send(content_part_event("response.content_part.done", sequence_++, state_));
    send(output_item_event("response.output_item.done", sequence_++, state_));
  }
  if (request_.store) {
    conversation_.push_back({"assistant", state_.text});
    ctx_.responses().put(state_.id, std::move(conversation_));
  }
  const char* last = state_.status == "incomplete" ? "response.incomplete" : "response.completed";
  output_->finish(state_, response_event(last, sequence_++, state_));
}

}  // namespace pagedserve::net
