// WsSession in a real server with the real engine, through a Beast
// WebSocket client that can stop reading, which the black-box clients
// cannot do on purpose.

#include "net/ws_session.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "net/in_process_server.hpp"

using namespace pagedserve;
using namespace pagedserve::testing;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

net::ServerOptions small_buffer_options() {
  auto o = test_options();
  o.send_buffer_bytes = 4096;
  o.max_connection_buffer_bytes = 16 * 1024;
  return o;
}

// A client with a small receive buffer, so that not reading soon stalls the server.
struct WsClient {
  boost::asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  explicit WsClient(int port) {
    auto& s = ws.next_layer();
    s.open(tcp::v4());
    s.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    s.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    ws.handshake("127.0.0.1", "/v1/stream");
  }
  // Every text frame until the server's close (or `limit`); the close code, 0 without one.
  std::pair<std::vector<std::string>, int> read_to_close(std::chrono::milliseconds limit = 10s) {
    std::vector<std::string> frames;
    int code = 0;
    beast::flat_buffer buffer;
    std::function<void()> next = [&] {
      ws.async_read(buffer, [&](beast::error_code ec, std::size_t) {
        if (ec == websocket::error::closed) code = ws.reason().code;
        if (ec) return;
        frames.push_back(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
        next();
      });
    };
    next();
    ioc.run_for(limit);
    return {frames, code};
  }
};

}  // namespace

TEST_CASE("a WebSocket reader that stops reading loses its requests and gets error frames and a 1008 close",
          "[ws_session]") {
  net::Server server(small_buffer_options());
  server.start();
  server.publish(start_engine());
  WsClient client(server.port());
  for (int i = 0; i < 4; ++i)
    client.ws.write(boost::asio::buffer(R"({"type":"generate","id":"r)" + std::to_string(i) +
                                        R"(","prompt":"Once upon a time","max_tokens":400,"n":4,"ignore_eos":true,"logprobs":5})"));
  // The server may close before it has read all four from the socket (the
  // first request's output can fill the buffer first on a busy machine):
  // those it never read are dropped with the connection. Every one it did
  // read ends with a slow_reader error frame, and none keeps generating.
  auto& stats = server.context().stats();
  CHECK(eventually([&] { return stats.cancelled_slow_reader.load() >= 1; }, 20s));
  auto* engine = server.context().ready()->engine.get();
  CHECK(eventually([&] { return engine->metrics().gpu_blocks_used == 0; }));
  auto [frames, code] = client.read_to_close();
  CHECK(code == 1008);
  int num_slow = 0;
  for (const auto& f : frames) num_slow += f.find("\"code\":\"slow_reader\"") != std::string::npos;
  CHECK(num_slow >= 1);
  CHECK(num_slow <= 4);
  CHECK(stats.cancelled_slow_reader.load() <= num_slow);
}
