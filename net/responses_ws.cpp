#include "net/responses_ws.hpp"

#include "net/json_read.hpp"
#include "net/responses_run.hpp"

namespace pagedserve::net {

namespace {

class WsResponseOutput final : public ResponseOutput {
 public:
  explicit WsResponseOutput(std::shared_ptr<WsSession> session) : session_(std::move(session)) {}

  void refuse(const ApiError& error) override {
    session_->send_final(error_event(0, error).json);
    session_->set_response(nullptr);
  }
  bool event(ResponseEvent event) override { return session_->send(std::move(event.json)); }
  void finish(const ResponseState&, ResponseEvent last_event) override {
    session_->send_final(std::move(last_event.json));
    session_->set_response(nullptr);
  }

 private:
  std::shared_ptr<WsSession> session_;
};

ResponsesRequest read_create_event(std::string_view text, const ReadyEngine& ready) {
  auto obj = parse_object(thread_parser(), text);
  std::string_view type;
  if (obj["type"].get(type) || type != "response.create")
    throw invalid_request("type", "client events are {\"type\": \"response.create\", ...}", "unknown_event");
  auto request = read_responses_request(obj, ready.limits);
  request.params.stream = true;  // a socket always streams
  return request;
}

}  // namespace

void handle_response_create(std::shared_ptr<WsSession> session, std::string_view text) {
  auto& ctx = session->context();
  try {
    auto& ready = ctx.require_ready();
    auto request = read_create_event(text, ready);
    if (session->response())
      throw ApiError(409, "invalid_request_error", "a response is already in progress on this socket; wait for its last event",
                     "", "response_in_progress");
    if (auto refused = ctx.check_model(request.params.model)) throw *refused;
    auto output = std::make_shared<WsResponseOutput>(session);
    session->set_response(ResponseRun::start(ctx, ready, session->strand(), output, std::move(request)));
  } catch (const ApiError& e) {
    session->send(error_event(0, e).json);
  }
}

}  // namespace pagedserve::net
