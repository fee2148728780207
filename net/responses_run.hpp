#pragma once
// One Responses API request from its validated body to its last event:
// looks up previous_response_id, renders the conversation with the chat
// template, tokenizes on the blocking pool, generates, and keeps the
// conversation for later requests (unless "store": false).
//
// The events go to a ResponseOutput: an SSE stream, a WebSocket, or (a
// plain POST) only the final Response. Everything runs on the connection's
// strand.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/chat_output.hpp"
#include "net/generation.hpp"
#include "net/responses_format.hpp"

namespace pagedserve::net {

class ResponseOutput {
 public:
  virtual ~ResponseOutput() = default;
  // Nothing was generated: the request is refused with `error`.
  virtual void refuse(const ApiError& error) = 0;
  // A streamed event; false when the client reads too slowly.
  virtual bool event(ResponseEvent event) = 0;
  // The response is over: `last_event` (streamed: response.completed,
  // .incomplete or .failed) goes out whatever the bound; a plain request
  // answers with the Response object.
  virtual void finish(const ResponseState& response, ResponseEvent last_event) = 0;
};

class ResponseRun final : public GenerationListener, public std::enable_shared_from_this<ResponseRun> {
 public:
  // Throws ApiError for an unknown previous_response_id.
  static std::shared_ptr<ResponseRun> start(ServerContext& ctx, ReadyEngine& ready, boost::asio::any_io_executor strand,
                                            std::shared_ptr<ResponseOutput> output, ResponsesRequest request);
  ResponseRun(ServerContext& ctx, ReadyEngine& ready, boost::asio::any_io_executor strand,
              std::shared_ptr<ResponseOutput> output, ResponsesRequest request);

  // The client left or fell behind: stop generating (the run still ends).
  void cancel();
  bool over() const { return over_; }

  void on_token(int choice, const actors::TokenEvent& e) override;
  void on_choice_finished(int choice, const actors::SampleFinished& e) override;
  void on_generation_done(const Usage& usage) override;

 private:
  void run(std::vector<PreparedPrompt> prompts);
  void send(ResponseEvent event);
  void fail(const ApiError& error);
  // Streams what a delta adds: items opened, grown and closed as the text
  // moves from reasoning to the message to calls.
  void stream(const ChatDelta& delta);
  std::size_t open_item(ResponseItem::Type type, std::string call_id = "", std::string name = "");
  void grow(std::size_t index, std::string_view text);
  void close_open_item();
  // The whole answer's items (a plain request), from the parsed message.
  void set_items(const ChatMessageOut& message);

  ServerContext& ctx_;
  ReadyEngine& ready_;
  boost::asio::any_io_executor strand_;
  std::shared_ptr<ResponseOutput> output_;
  ResponsesRequest request_;
  std::vector<ChatMessage> conversation_;  // previous turns and this input
  ResponseState state_;
  std::shared_ptr<Generation> generation_;
  std::optional<ChatOutput> chat_output_;  // set once the prompt is rendered
  std::optional<std::size_t> open_;        // the streamed item not yet done
  std::vector<std::size_t> call_items_;    // tool call index -> its item
  ChatMessageOut message_;                 // the whole answer, once finished
  std::string finish_reason_;
  int sequence_ = 0;
  bool cancelled_ = false;
  bool over_ = false;
};

}  // namespace pagedserve::net
