#pragma once
// The HTTP server: binds its port at once (so /health can say "loading"
// while the model loads), accepts on a few I/O threads, and serves every
// route once an engine is published.
//
// Shutdown order matters: stop accepting, let the engine drain, stop the
// I/O threads and the blocking pool, destroy the engine (its sinks hold
// executors of the I/O context), and only then the I/O context.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "net/server_context.hpp"

namespace pagedserve::net {

class Server {
 public:
  // Binds and listens; throws std::runtime_error naming the address.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  ServerContext& context() { return *context_; }
  // Starts the I/O threads.
  void start();
  // The model has loaded: requests are served from now on.
  void publish(std::unique_ptr<actors::Engine> engine);
  void set_load_error(std::string message) { context_->set_load_error(std::move(message)); }
  // Stops accepting, lets running requests finish for up to `drain`
  // (then cancels them), and stops. Idempotent.
  void shutdown(std::chrono::milliseconds drain);

 private:
  void accept();
  void back_off_accept(boost::system::error_code ec);
  void refuse_connection(boost::asio::ip::tcp::socket socket);

  // Declaration order is destruction order reversed: see the file comment.
  std::shared_ptr<ServerContext> context_;
  boost::asio::io_context ioc_;
  boost::asio::thread_pool blocking_pool_{2};
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_{ioc_};       // on the acceptor's thread only
  std::chrono::milliseconds accept_backoff_{0};
  bool accept_failure_logged_ = false;
  std::vector<std::thread> threads_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace pagedserve::net
