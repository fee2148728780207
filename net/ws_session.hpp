#pragma once
// One WebSocket, speaking one of two protocols:
//
// On /v1/responses, OpenAI's Responses WebSocket mode: the client sends
// {"type":"response.create", ...the POST /v1/responses body...}, one at a
// time, and gets the streamed Response events (responses_ws.hpp).
//
// On /v1/stream, ours: many requests in flight at once, each named
// by the client's id (see ws_message.hpp for the client side). The server
// sends, per request,
//   {"type":"token","id":"r1","index":0,"token_id":123,"text":"..."}  per token
//   {"type":"done","id":"r1","finish_reason":"length"|"stop"|"cancelled",
//    "usage":{"prompt_tokens":5,"completion_tokens":64}}
// or a single {"type":"error","id":"r1","error":{"message","type",...}}.
// Bad messages get an error frame and the socket stays open.
//
// Every frame queued for the client counts against one bound
// (max_connection_buffer_bytes). Past it the socket is overflowed: what is
// queued is dropped, nothing more is read, every request ends with a
// slow_reader error frame and a close frame with status 1008 (policy
// violation) follows; a client that does not read even those loses the
// socket after write_timeout.
//
// Invariants (on the strand): requests_ holds exactly the ids in flight;
// at most one frame is being written; the queued bytes stay under the
// bound until the socket overflows, and after that only last frames (one
// per request in flight at most) are queued.

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <memory>
#include <string>

#include "net/outgoing_queue.hpp"
#include "net/server_context.hpp"
#include "net/ws_message.hpp"

namespace pagedserve::net {

class WsRequest;
class ResponseRun;

enum class WsProtocol { stream, responses };

class WsSession final : public Closable, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(boost::beast::tcp_stream stream, std::shared_ptr<ServerContext> context, WsProtocol protocol);
  ~WsSession();
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade, boost::beast::flat_buffer leftover);

  // For WsRequest, on the strand.
  ServerContext& context() { return *context_; }
  boost::asio::any_io_executor strand() { return ws_.get_executor(); }
  // Queues a frame; false (nothing queued) once the socket has overflowed.
  bool send(std::string frame);
  // Queues a request's last frame (done, error): counted like any other
  // until the socket overflows, then queued anyway so the client learns
  // how each request ended.
  void send_final(std::string frame);
  void finished(const std::string& id);
  // The Responses protocol's one response in flight (null: none).
  const std::shared_ptr<ResponseRun>& response() const { return response_; }
  void set_response(std::shared_ptr<ResponseRun> run);
  // The server stops: once the last request's done frame is out, a close
  // frame with status 1001 (going away).
  void go_away() override;

 private:
  void read_message();
  void on_message(boost::beast::error_code ec);
  void handle_text(std::string_view text);
  void handle_generate(WsGenerate g);
  void handle_cancel(const std::string& id);
  void flush();
  void overflow();
  void start_close_deadline();
  void on_closed();
  void close_if_idle();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> context_;
  OutgoingQueue queue_;
  std::string writing_;
  WsProtocol protocol_;
  std::map<std::string, std::shared_ptr<WsRequest>> requests_;
  std::shared_ptr<ResponseRun> response_;
  std::string id_prefix_;  // makes client ids unique engine-wide
  boost::asio::steady_timer close_deadline_;
  bool closed_ = false;
  bool going_away_ = false;
  bool overflowed_ = false;
};

// {"type":"error","id":...,"error":{...}} ("id" null when unknown).
std::string ws_error_frame(const std::string& id, const ApiError& error);

}  // namespace pagedserve::net
