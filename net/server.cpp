#include "net/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <cerrno>

#include "net/http_session.hpp"
#include "net/log.hpp"

namespace pagedserve::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

tcp::endpoint resolve(asio::io_context& ioc, const std::string& host, int port) {
  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) throw std::runtime_error("cannot resolve host '" + host + "': " + ec.message());
  return results.begin()->endpoint();
}

// accept failed for want of descriptors or memory: every retry would too
// until something is freed.
bool out_of_resources(boost::system::error_code ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace

Server::Server(ServerOptions options) : acceptor_(ioc_) {
  if (options.port < 0 || options.port > 65535) throw std::invalid_argument("port must be in [0, 65535]");
  if (options.num_threads < 1) throw std::invalid_argument("the server needs at least one I/O thread");
  const auto endpoint = resolve(ioc_, options.host, options.port);
  const std::string where = options.host + ":" + std::to_string(options.port);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  options.port = port_;  // port 0 asked for any: the Host check needs the real one
  context_ = std::make_shared<ServerContext>(std::move(options), blocking_pool_);
  if (!context_->admin_enabled())
    log(LogLevel::warning, "admin views are disabled: listening on " + where + " (not loopback) without an admin_token");
}

Server::~Server() { shutdown(std::chrono::milliseconds(0)); }

void Server::start() {
  accept();
  for (int i = 0; i < context_->options().num_threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

void Server::publish(std::unique_ptr<actors::Engine> engine) { context_->publish(std::move(engine)); }

void Server::accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec && out_of_resources(ec)) return back_off_accept(ec);
    if (ec) return accept();  // one connection failed (reset before it was taken): the next
    accept_backoff_ = std::chrono::milliseconds(0);
    socket.set_option(tcp::no_delay(true), ec);  // tokens go out as they come
    if (const int bytes = context_->options().send_buffer_bytes; bytes > 0)
      socket.set_option(asio::socket_base::send_buffer_size(bytes), ec);
    if (context_->stats().open_connections.load() >= context_->options().max_connections)
      refuse_connection(std::move(socket));
    else
      std::make_shared<HttpSession>(std::move(socket), context_)->start();
    accept();
  });
}

// accept failed: out of file descriptors (EMFILE, ENFILE) or memory. The
// connection stays in the listen queue, so accepting again at once would
// fail again at once and spin a core: wait, doubling the wait up to a
// second, while the open connections go on being served and close. Logged
// once per process, not per failure.
void Server::back_off_accept(boost::system::error_code ec) {
  if (!accept_failure_logged_) {
    accept_failure_logged_ = true;
    const bool out_of_fds = ec.value() == EMFILE || ec.value() == ENFILE;
    log(LogLevel::warning, std::string(out_of_fds ? "out of file descriptors" : "out of memory") + " to accept (" +
                               ec.message() + "); new connections wait in the listen queue, retried with backoff up to 1 s");
  }
  accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  accept_retry_.expires_after(accept_backoff_);
  accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
    if (!wait_ec) accept();
  });
}

// Over the connection limit: a short 503 and close, without a session.
void Server::refuse_connection(tcp::socket socket) {
  static const std::string kResponse = [] {
    const std::string body = error_body(
        ApiError(503, "overloaded_error", "too many open connections; retry shortly", "", "too_many_connections"));
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Retry-After: 1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  context_->stats().count_response(503);
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*s, asio::buffer(kResponse), [s](boost::system::error_code, std::size_t) {
    boost::system::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

void Server::shutdown(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  asio::post(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  if (auto* ready = context_->ready(); ready && ready->engine) ready->engine->shutdown(drain);
  context_->close_connections();
  // The last events are on their way to the clients: give the writes a moment.
  for (int i = 0; i < 20 && context_->stats().open_connections.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ioc_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  blocking_pool_.stop();
  blocking_pool_.join();
  context_->release_engine();
}

}  // namespace pagedserve::net
