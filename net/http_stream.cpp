// HttpSession while a generation runs: the disconnect watch and the
// text/event-stream response (chunked, through the bounded queue).

#include <boost/asio/write.hpp>

#include "net/http_session.hpp"

namespace pagedserve::net {

namespace beast = boost::beast;
namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxReadAhead = 64 * 1024;  // pipelined bytes held while a request runs

}  // namespace

void HttpSession::watch_for_disconnect(std::function<void()> on_gone) {
  on_gone_ = std::move(on_gone);
  stream_.expires_never();  // a generation may take long; writes set their own deadline
  watch_read();
}

// A read kept pending only to learn that the client has gone: HTTP/1.1
// clients send nothing while they wait, so EOF or a reset means they left.
void HttpSession::watch_read() {
  if (watching_ || client_gone_ || buffer_.size() >= kMaxReadAhead) return;
  watching_ = true;
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
    self->watching_ = false;
    if (!ec) self->buffer_.commit(n);
    if (self->resume_after_watch_) {
      self->resume_after_watch_ = false;
      if (!ec || ec == asio::error::operation_aborted) return self->read_request();
      return self->close_now();
    }
    if (!ec) return self->watch_read();
    self->client_gone_ = true;
    if (auto on_gone = std::move(self->on_gone_)) on_gone();
    if (!self->exchange_) self->close_now();
  });
}

void HttpSession::begin_event_stream() {
  stream_head_.emplace(http::status::ok, version_);
  auto& head = *stream_head_;
  head.set(http::field::server, "pagedserve");
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  set_common_headers(head);
  // HTTP/1.0 has no chunked encoding: the end of the stream is the close.
  chunked_ = version_ >= 11;
  if (!chunked_) close_after_ = true;
  head.keep_alive(keep_alive_ && !close_after_);
  head.chunked(chunked_);
  stream_serializer_.emplace(head);
  context_->stats().count_response(200);
  status_ = 200;
  stream_.expires_after(context_->options().write_timeout);
  http::async_write_header(stream_, *stream_serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->on_write_failed();
    self->stream_head_written_ = true;
    self->flush_stream();
  });
}

bool HttpSession::stream_event(std::string bytes) {
  if (client_gone_) return true;  // being cancelled: nobody to tell
  if (stalled_ || !queue_.push(std::move(bytes))) return false;
  flush_stream();
  return true;
}

void HttpSession::end_event_stream(std::string last_bytes) {
  if (!last_bytes.empty()) queue_.push_always(std::move(last_bytes));
  stream_ending_ = true;
  if (client_gone_) return finish_stream();
  flush_stream();
}

void HttpSession::flush_stream() {
  if (!stream_head_written_ || queue_.writing() || client_gone_) return;
  if (queue_.empty()) {
    if (stream_ending_) finish_stream();
    return;
  }
  writing_ = queue_.take_all();
  stream_.expires_never();  // a stalled write is the stall timer's to judge
  watch_for_stall();
  auto on_written = [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->stall_timer_.cancel();
    self->queue_.written();
    if (ec) return self->on_write_failed();
    self->flush_stream();
  };
  if (chunked_)
    asio::async_write(stream_, http::make_chunk(asio::buffer(writing_)), std::move(on_written));
  else
    asio::async_write(stream_, asio::buffer(writing_), std::move(on_written));
}

// A write that has not completed in write_timeout means the client reads
// too slowly: the stream refuses further events, so the request is cut off
// and its ending (slow_reader, [DONE]) queued behind the stalled write,
// whole events only. The client then has another write_timeout to read on
// before the connection is closed.
void HttpSession::watch_for_stall() {
  stall_timer_.expires_after(context_->options().write_timeout);
  stall_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec) return;
    if (self->stalled_) return self->close_now();
    self->stalled_ = true;
    self->watch_for_stall();
  });
}

void HttpSession::finish_stream() {
  auto reset = [this] {
    stream_ending_ = false;
    stalled_ = false;
    stream_head_written_ = false;
    stream_serializer_.reset();
    stream_head_.reset();
  };
  if (!chunked_ || client_gone_) {
    reset();
    close_after_ = true;
    return after_exchange();
  }
  stream_.expires_after(context_->options().write_timeout);
  asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this(), reset](beast::error_code ec, std::size_t) {
    reset();
    if (ec) return self->on_write_failed();
    self->after_exchange();
  });
}

// A write failed or timed out: the client is gone (or too slow to keep).
void HttpSession::on_write_failed() {
  client_gone_ = true;
  if (auto on_gone = std::move(on_gone_)) on_gone();
  close_now();
}

}  // namespace pagedserve::net
