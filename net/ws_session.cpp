#include "net/ws_session.hpp"

#include <atomic>
#include <boost/asio/post.hpp>

#include "net/json_writer.hpp"
#include "net/log.hpp"
#include "net/responses_run.hpp"
#include "net/responses_ws.hpp"
#include "net/ws_request.hpp"

namespace pagedserve::net {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

std::atomic<std::uint64_t> g_next_socket{1};

}  // namespace

std::string ws_error_frame(const std::string& id, const ApiError& error) {
  JsonWriter w;
  w.begin_object().field("type", "error").key("id");
  id.empty() ? w.null() : w.value(id);
  w.key("error").begin_object().field("message", std::string_view(error.what())).field("type", error.type);
  w.key("param");
  error.param.empty() ? w.null() : w.value(error.param);
  w.key("code");
  error.code.empty() ? w.null() : w.value(error.code);
  return w.end_object().end_object().take();
}

WsSession::WsSession(beast::tcp_stream stream, std::shared_ptr<ServerContext> context, WsProtocol protocol)
    : ws_(std::move(stream)),
      context_(std::move(context)),
      queue_(context_->options().max_connection_buffer_bytes),
      protocol_(protocol),
      close_deadline_(ws_.get_executor()) {
  id_prefix_ = "ws" + std::to_string(g_next_socket++) + "-";
  // The upgraded connection still counts against max_connections.
  ++context_->stats().open_connections;
  ++context_->stats().open_websockets;
}

WsSession::~WsSession() {
  --context_->stats().open_websockets;
  --context_->stats().open_connections;
}

void WsSession::start(beast::http::request<beast::http::string_body> upgrade, beast::flat_buffer leftover) {
  buffer_ = std::move(leftover);
  ws_.next_layer().expires_never();  // the WebSocket keeps its own timeouts
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = context_->options().request_timeout;
  timeouts.idle_timeout = context_->options().idle_timeout;  // a peer that answers no ping for this long is gone
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "pagedserve"); }));
  ws_.read_message_max(context_->options().max_body_bytes);
  ws_.text(true);
  context_->stats().count_response(101);
  context_->track(weak_from_this());
  ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->on_closed();
    self->read_message();
  });
}

void WsSession::read_message() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_message(ec); });
}

void WsSession::on_message(beast::error_code ec) {
  // A message over read_message_max ends the socket too: the WebSocket layer
  // closes it with status 1009 (message too big), as RFC 6455 asks.
  if (ec) return on_closed();
  if (overflowed_) return;  // closing: nothing more is read
  const std::string text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  if (!ws_.got_text())
    send(ws_error_frame("", invalid_request("", "send JSON in text frames, not binary")));
  else
    handle_text(text);
  read_message();
}

void WsSession::handle_text(std::string_view text) {
  if (protocol_ == WsProtocol::responses) return handle_response_create(shared_from_this(), text);
  const auto* ready = context_->ready();
  InputLimits limits = ready ? ready->limits : InputLimits{};
  try {
    auto message = parse_ws_message(text, limits);
    if (auto* g = std::get_if<WsGenerate>(&message)) return handle_generate(std::move(*g));
    handle_cancel(std::get<WsCancel>(message).id);
  } catch (const WsParseError& e) {
    send(ws_error_frame(e.id, e.error));
  }
}

void WsSession::handle_generate(WsGenerate g) {
  if (requests_.count(g.id))
    return (void)send(ws_error_frame(g.id, invalid_request("id", "a request with id '" + g.id + "' is already in flight on this socket", "duplicate_id")));
  if (static_cast<int>(requests_.size()) >= context_->options().max_ws_requests)
    return (void)send(ws_error_frame(g.id, ApiError(429, "rate_limit_error", "more than " +
                                                                                  std::to_string(context_->options().max_ws_requests) +
                                                                                  " requests in flight on this socket", "", "too_many_requests")));
  if (auto refused = context_->check_model(g.request.params.model)) return (void)send(ws_error_frame(g.id, *refused));
  auto request = std::make_shared<WsRequest>(shared_from_this(), g.id, std::move(g.request));
  requests_[g.id] = request;
  request->start(id_prefix_ + g.id);
}

void WsSession::handle_cancel(const std::string& id) {
  // An id no longer in flight has already sent its done frame: nothing to do.
  if (auto it = requests_.find(id); it != requests_.end()) it->second->cancel();
}

void WsSession::finished(const std::string& id) {
  requests_.erase(id);
  close_if_idle();
}

void WsSession::set_response(std::shared_ptr<ResponseRun> run) {
  response_ = std::move(run);
  close_if_idle();
}

bool WsSession::send(std::string frame) {
  if (closed_ || overflowed_) return false;
  if (!queue_.push(std::move(frame))) {
    overflow();
    return false;
  }
  flush();
  return true;
}

void WsSession::send_final(std::string frame) {
  if (closed_) return;
  if (!overflowed_ && queue_.push(frame)) return flush();
  if (!overflowed_) overflow();
  queue_.push_always(std::move(frame));
  flush();
}

void WsSession::flush() {
  if (closed_ || queue_.writing() || queue_.empty()) return;
  writing_ = queue_.take_one();
  ws_.async_write(boost::asio::buffer(writing_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->queue_.written();
    if (ec) return self->on_closed();
    self->flush();
    self->close_if_idle();
  });
}

void WsSession::go_away() {
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->going_away_ = true;
    self->close_if_idle();
  });
}

// A close frame counts as a write: only when no frame is being written.
void WsSession::close_if_idle() {
  if (!(going_away_ || overflowed_) || closed_ || !requests_.empty() || response_ || queue_.writing() || !queue_.empty())
    return;
  closed_ = true;
  const auto code = overflowed_ ? websocket::close_code::policy_error : websocket::close_code::going_away;
  ws_.async_close(code, [self = shared_from_this()](beast::error_code) {
    self->close_deadline_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(self->ws_).socket().close(ec);
  });
}

// The client let more than the bound pile up (it reads too slowly, or not
// at all while it sends): the connection ends, and with it its requests.
void WsSession::overflow() {
  overflowed_ = true;
  log(LogLevel::warning, "a WebSocket client let more than " + std::to_string(context_->options().max_connection_buffer_bytes) +
                             " bytes pile up unread; closing it (1008) and cancelling its requests");
  queue_.drop_pending();
  start_close_deadline();
  std::vector<std::shared_ptr<WsRequest>> in_flight;
  for (auto& [id, r] : requests_) in_flight.push_back(r);
  for (auto& r : in_flight) r->cut_off();
  if (response_) response_->cancel();
  close_if_idle();
}

// The last frames and the close frame get write_timeout to go out; a
// client that reads none of them loses the socket then.
void WsSession::start_close_deadline() {
  close_deadline_.expires_after(context_->options().write_timeout);
  close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    self->on_closed();
    beast::error_code ignored;  // a close frame that never went out: the socket goes anyway
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
}

// The socket is gone: every request on it is cancelled.
void WsSession::on_closed() {
  if (closed_) return;
  closed_ = true;
  std::vector<std::shared_ptr<WsRequest>> in_flight;
  for (auto& [id, r] : requests_) in_flight.push_back(r);
  if (!in_flight.empty()) context_->stats().cancelled_by_client += static_cast<std::int64_t>(in_flight.size());
  for (auto& r : in_flight) r->cancel();
  if (response_ && !response_->over()) {
    ++context_->stats().cancelled_by_client;
    response_->cancel();
  }
  close_deadline_.cancel();
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
}

}  // namespace pagedserve::net
