// The server in-process with the real engine (stories260K), driven through
// raw sockets where a well-behaved HTTP client would not do what is being
// tested: trickled headers, oversized requests, pipelining, a reader that
// stops reading, a client that vanishes, too many connections.

#include "net/server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "net/in_process_server.hpp"

using namespace pagedserve;
using namespace pagedserve::testing;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A plain blocking socket to the server.
struct Client {
  boost::asio::io_context ioc;
  tcp::socket socket{ioc};
  explicit Client(int port, int receive_buffer = 0) {
    socket.open(tcp::v4());
    if (receive_buffer) socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer));
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }
  void send(const std::string& bytes) { boost::asio::write(socket, boost::asio::buffer(bytes)); }
  // Everything until the server closes (or `limit` passes).
  std::string read_all(std::chrono::milliseconds limit = 10s) { return read_until("", limit); }
  // Reads until `needle` has arrived ("" : until the server closes) or `limit` passes.
  std::string read_until(const std::string& needle, std::chrono::milliseconds limit = 10s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    socket.non_blocking(true);
    while ((needle.empty() || out.find(needle) == std::string::npos) && std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec;
      const auto n = socket.read_some(boost::asio::buffer(buf), ec);
      if (ec == boost::asio::error::would_block) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }
};

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("health says loading until the engine is published, and other routes answer 503", "[server]") {
  net::Server server(test_options());
  server.start();
  {
    Client c(server.port());
    c.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto r = c.read_until("}");
    CHECK(r.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(r.find(R"({"status":"loading"})") != std::string::npos);
    c.send(post("/v1/completions", R"({"prompt":"x"})", "Connection: close\r\n"));
    auto busy = c.read_all();
    CHECK(busy.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(busy.find("model_loading") != std::string::npos);
  }
  server.publish(start_engine());
  Client c(server.port());
  c.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  auto r = c.read_all();
  CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(r.find(R"({"status":"ok"})") != std::string::npos);
}

TEST_CASE("a client trickling its headers is cut off while others are served", "[server]") {
  net::Server server(test_options());
  server.start();
  server.publish(start_engine());
  Client slow(server.port());
  const auto start = std::chrono::steady_clock::now();
  std::thread trickler([&] {
    const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    for (char ch : head + std::string(40, 'a')) {
      boost::system::error_code ec;
      boost::asio::write(slow.socket, boost::asio::buffer(&ch, 1), ec);
      if (ec) return;
      std::this_thread::sleep_for(50ms);
    }
  });
  Client fast(server.port());
  fast.send(post("/v1/completions", R"({"prompt":"Once","max_tokens":4,"temperature":0})", "Connection: close\r\n"));
  CHECK(fast.read_all().rfind("HTTP/1.1 200", 0) == 0);
  const std::string cut = slow.read_all(5s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  trickler.join();
  CHECK(cut.find("HTTP/1.1") == std::string::npos);  // closed without an answer
  CHECK(seconds < 2.0);  // at the 0.7 s request deadline, not after the 2.5 s the trickle takes
}

TEST_CASE("oversized headers, URLs and bodies get 431, 414 and 413", "[server]") {
  auto options = test_options();
  options.max_body_bytes = 4096;
  options.max_target_bytes = 256;
  net::Server server(options);
  server.start();
  server.publish(start_engine());
  {
    Client c(server.port());
    c.send("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n");
    CHECK(c.read_all().rfind("HTTP/1.1 431", 0) == 0);
  }
  {
    Client c(server.port());
    c.send("GET /health?" + std::string(1000, 'q') + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto r = c.read_all();
    CHECK(r.rfind("HTTP/1.1 414", 0) == 0);
    CHECK(r.find("\"type\":\"invalid_request_error\"") != std::string::npos);
  }
  {
    // The whole body is sent, though the answer comes from the headers:
    // the server must still deliver its 413 before closing.
    Client c(server.port());
    const std::string body = R"({"prompt":")" + std::string(200000, 'x') + R"("})";
    std::thread sender([&] {
      boost::system::error_code ec;
      boost::asio::write(c.socket, boost::asio::buffer(post("/v1/completions", body)), ec);
    });
    auto r = c.read_all();
    sender.join();
    CHECK(r.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(r.find("larger than the limit of 4096 bytes") != std::string::npos);
  }
}

TEST_CASE("keep-alive and pipelined requests are answered in order on one connection", "[server]") {
  net::Server server(test_options());
  server.start();
  server.publish(start_engine());
  Client c(server.port());
  c.send(post("/v1/completions", R"({"prompt":"Once","max_tokens":3,"temperature":0})") +
         "GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n" + post("/v1/completions", R"({"prompt":5})") +
         "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  auto r = c.read_all();
  const auto a = r.find("\"object\":\"text_completion\""), b = r.find("\"object\":\"list\""),
             e = r.find("\"param\":\"prompt\""), h = r.find("\"status\":\"ok\"");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  REQUIRE(h != std::string::npos);
  CHECK((a < b && b < e && e < h));
  CHECK(count(r, "HTTP/1.1 ") == 4);
}

TEST_CASE("a reader that stops reading is cut off without stalling the others", "[server]") {
  auto options = test_options();
  options.send_buffer_bytes = 4096;
  options.max_connection_buffer_bytes = 16 * 1024;
  net::Server server(options);
  server.start();
  server.publish(start_engine());
  Client stalled(server.port(), 4096);
  stalled.send(post("/v1/completions",
                    R"({"prompt":"Once upon a time","max_tokens":400,"n":8,"ignore_eos":true,"stream":true,"logprobs":5})"));
  // Meanwhile another stream completes normally.
  Client other(server.port());
  other.send(post("/v1/completions", R"({"prompt":"Hello","max_tokens":30,"stream":true})", "Connection: close\r\n"));
  auto fine = other.read_all();
  CHECK(fine.find("data: [DONE]") != std::string::npos);
  CHECK(fine.find("slow_reader") == std::string::npos);
  auto& stats = server.context().stats();
  CHECK(eventually([&] { return stats.cancelled_slow_reader.load() == 1; }, 20s));
  auto* engine = server.context().ready()->engine.get();
  CHECK(eventually([&] { return engine->metrics().gpu_blocks_used == 0; }));
  // Reading again, the client finds the stream closed with an error and [DONE].
  auto rest = stalled.read_until("data: [DONE]", 20s);
  CHECK(rest.find("\"code\":\"slow_reader\"") != std::string::npos);
  CHECK(rest.find("data: [DONE]") != std::string::npos);
}

TEST_CASE("a reader that pauses past the write timeout gets the slow_reader ending and no cut mid-event", "[server]") {
  auto options = test_options();
  options.send_buffer_bytes = 4096;
  options.write_timeout = 3s;
  net::Server server(options);
  server.start();
  server.publish(start_engine());
  Client paused(server.port(), 4096);
  paused.send(post("/v1/completions",
                   R"({"prompt":"Once upon a time","max_tokens":400,"n":8,"ignore_eos":true,"stream":true,"logprobs":20})",
                   "Connection: close\r\n"));
  auto head = paused.read_until("data: {");
  REQUIRE(head.find("data: {") != std::string::npos);
  // Past one write timeout, within two: the buffers fill within the
  // first second, the stall is noticed 3 s later, the grace ends 3 s after.
  std::this_thread::sleep_for(5s);
  auto rest = head + paused.read_all(20s);
  CHECK(rest.find("\"code\":\"slow_reader\"") != std::string::npos);
  CHECK(rest.find("data: [DONE]") != std::string::npos);
  CHECK(rest.find("0\r\n\r\n") != std::string::npos);  // the chunked body ended properly
  CHECK(server.context().stats().cancelled_slow_reader.load() == 1);
  auto* engine = server.context().ready()->engine.get();
  CHECK(eventually([&] { return engine->metrics().gpu_blocks_used == 0; }));
}

TEST_CASE("a client that disconnects mid-request gets its request cancelled and its blocks freed", "[server]") {
  net::Server server(test_options());
  server.start();
  server.publish(start_engine());
  auto* engine = server.context().ready()->engine.get();
  {
    Client c(server.port());
    c.send(post("/v1/completions", R"({"prompt":"Once upon a time","max_tokens":480,"n":4,"ignore_eos":true})"));
    CHECK(eventually([&] { return engine->metrics().gpu_blocks_used > 0; }));
  }  // closed before the answer
  CHECK(eventually([&] { return server.context().stats().cancelled_by_client.load() == 1; }));
  CHECK(eventually([&] { return engine->metrics().gpu_blocks_used == 0; }));
  CHECK(engine->metrics().num_running == 0);
}

TEST_CASE("connections past the limit get a 503 at once", "[server]") {
  auto options = test_options();
  options.max_connections = 2;
  options.request_timeout = 5s;
  net::Server server(options);
  server.start();
  Client a(server.port()), b(server.port());
  CHECK(eventually([&] { return server.context().stats().open_connections.load() == 2; }));
  Client c(server.port());
  auto r = c.read_all();
  CHECK(r.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(r.find("too_many_connections") != std::string::npos);
}

TEST_CASE("an engine that dies ends open streams with an error and health turns to 503 engine_dead", "[server]") {
  net::Server server(test_options());
  server.start();
  auto engine = start_engine();
  auto* raw = engine.get();
  server.publish(std::move(engine));
  Client stream(server.port());
  stream.send(post("/v1/completions",
                   R"({"prompt":"Once upon a time","max_tokens":250,"ignore_eos":true,"stream":true,"temperature":0.8})",
                   "Connection: close\r\n"));
  REQUIRE(stream.read_until("data: {").find("data: {") != std::string::npos);

  actors::inject_failure(*raw, actors::EngineActor::executor, "injected failure");
  const auto died = std::chrono::steady_clock::now();
  const auto rest = stream.read_all(5s);
  CHECK(std::chrono::steady_clock::now() - died < 1s);
  CHECK(rest.find("injected failure") != std::string::npos);
  CHECK(rest.find("data: [DONE]") != std::string::npos);

  Client health(server.port());
  health.send("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const auto h = health.read_all();
  CHECK(h.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(h.find(R"("status":"engine_dead")") != std::string::npos);

  Client late(server.port());
  late.send(post("/v1/completions", R"({"prompt":"x","max_tokens":4})", "Connection: close\r\n"));
  const auto refused = late.read_all();
  CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.find("engine_dead") != std::string::npos);
}
