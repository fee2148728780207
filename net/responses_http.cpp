#include "net/responses_http.hpp"

#include "net/responses_run.hpp"
#include "net/sse.hpp"

namespace pagedserve::net {

namespace {

// "event: <type>\ndata: <json>\n\n", as OpenAI names its events.
std::string named_sse_event(const ResponseEvent& e) { return "event: " + e.type + "\n" + sse_event(e.json); }

class HttpResponseOutput final : public ResponseOutput {
 public:
  HttpResponseOutput(std::shared_ptr<HttpSession> session, bool stream) : session_(std::move(session)), stream_(stream) {}

  void refuse(const ApiError& error) override {
    if (!started_) return session_->send_error(error);
    session_->end_event_stream(named_sse_event(error_event(0, error)));
  }
  bool event(ResponseEvent event) override {
    if (!started_) session_->begin_event_stream();
    started_ = true;
    return session_->stream_event(named_sse_event(event));
  }
  void finish(const ResponseState& response, ResponseEvent last_event) override {
    if (stream_) {
      if (!started_) session_->begin_event_stream();
      started_ = true;
      return session_->end_event_stream(named_sse_event(last_event));
    }
    if (response.status == "failed") return session_->send_error(ApiError(500, "server_error", response.error));
    session_->send_response(json_response(http::status::ok, response_object(response), session_->request_version(),
                                          session_->request_keep_alive()));
  }

 private:
  std::shared_ptr<HttpSession> session_;
  bool stream_;
  bool started_ = false;
};

}  // namespace

void serve_responses(std::shared_ptr<HttpSession> session, std::string body) {
  auto& ready = session->context().require_ready();
  auto request = parse_responses_request(body, ready.limits);
  if (auto refused = session->context().check_model(request.params.model)) throw *refused;
  auto output = std::make_shared<HttpResponseOutput>(session, request.params.stream);
  auto run = ResponseRun::start(session->context(), ready, session->strand(), output, std::move(request));
  session->watch_for_disconnect([weak = std::weak_ptr<ResponseRun>(run), stats = &session->context().stats()] {
    auto run = weak.lock();
    if (!run || run->over()) return;
    ++stats->cancelled_by_client;
    run->cancel();
  });
}

}  // namespace pagedserve::net
