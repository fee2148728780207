#pragma once
// One HTTP/1.1 connection: reads requests under size and time limits,
// routes them, answers simple routes itself, hands generation routes to a
// CompletionResponder and a WebSocket upgrade on /v1/stream to a WsSession.
//
// Everything runs on the connection's strand. While a generation runs the
// session keeps one read pending to notice the client leaving (which
// cancels the request); streamed output goes through a bounded queue.
//
// Invariants: at most one read and one write are in flight; exchange_ is
// set from a generation request until its response has been written.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/api_error.hpp"
#include "net/outgoing_queue.hpp"
#include "net/routes.hpp"
#include "net/server_context.hpp"
#include "net/ws_session.hpp"

namespace pagedserve::net {

namespace http = boost::beast::http;

using StringResponse = http::response<http::string_body>;

// A JSON response with the server's usual headers.
StringResponse json_response(http::status status, std::string body, unsigned version, bool keep_alive);

class HttpSession final : public Closable, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerContext> context);
  ~HttpSession();
  void start();
  // The server stops: an idle keep-alive connection closes at once, a busy
  // one after its answer (sent with Connection: close).
  void go_away() override;

  // For a CompletionResponder, on the strand:
  boost::asio::any_io_executor strand() { return strand_; }
  ServerContext& context() { return *context_; }
  // Watches the socket while the request runs; `on_gone` runs once if the client leaves.
  void watch_for_disconnect(std::function<void()> on_gone);
  void send_response(StringResponse response);
  void send_error(const ApiError& error);
  // Starts a text/event-stream response; events are queued until written.
  void begin_event_stream();
  // Queues event bytes; false (nothing queued) when the client reads too
  // slowly: more than max_connection_buffer_bytes queued, or a write
  // stalled for write_timeout.
  bool stream_event(std::string bytes);
  // Queues the last bytes whatever the bound, then ends the response.
  void end_event_stream(std::string last_bytes);
  bool request_keep_alive() const { return keep_alive_; }
  unsigned request_version() const { return version_; }

 private:
  void read_request();
  void on_read(boost::beast::error_code ec);
  void refuse_unreadable(boost::beast::error_code ec);
  void dispatch(http::request<http::string_body>& request);
  void upgrade_to_websocket(WsProtocol protocol);
  void answer_preflight(const http::request<http::string_body>& request);
  // CORS and X-Request-Id: what every answer to this request carries.
  void set_common_headers(http::fields& fields) const;
  void serve_health();
  void serve_version();
  void serve_tokenize(bool detokenize, std::string body);
  void serve_models();
  void serve_metrics();
  void serve_admin(const RouteMatch& match, const http::request<http::string_body>& request);
  void serve_admin_page(const http::request<http::string_body>& request);
  void write_response(std::shared_ptr<StringResponse> response);
  void after_exchange();
  void log_exchange();
  void linger_close();
  void linger_read(std::size_t num_drained);
  void watch_read();
  void flush_stream();
  void watch_for_stall();
  void finish_stream();
  void on_write_failed();
  void close_now();

  boost::beast::tcp_stream stream_;
  // The connection's strand, kept apart: stream_ is moved out by an upgrade,
  // and go_away may still be called from another thread after that.
  boost::asio::any_io_executor strand_;
  bool upgraded_ = false;  // the socket now belongs to a WsSession
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> context_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // The request being answered, for the access log.
  std::string method_, path_;
  std::string cors_origin_;  // Access-Control-Allow-Origin for this request ("" : none)
  std::string request_id_;   // the client's X-Request-Id, echoed and logged ("" : none)
  int status_ = 0;
  std::chrono::steady_clock::time_point started_;
  unsigned version_ = 11;
  bool awaiting_request_ = false;  // the read of the next request is pending
  bool answered_one_ = false;      // a request has been answered: the next read waits idle_timeout
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool exchange_ = false;        // a generation request is being answered
  bool watching_ = false;        // the disconnect watch read is pending
  bool resume_after_watch_ = false;
  bool client_gone_ = false;
  std::function<void()> on_gone_;
  // The event stream.
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  bool stream_head_written_ = false;
  bool stream_ending_ = false;
  boost::asio::steady_timer stall_timer_;
  bool stalled_ = false;  // a write took longer than write_timeout
  bool chunked_ = true;
  OutgoingQueue queue_;
  std::string writing_;
};

}  // namespace pagedserve::net
