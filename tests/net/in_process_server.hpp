#pragma once
// What the in-process server tests share: options for a server on a free
// loopback port, the real engine on stories260K with a small pool, and a
// wait for a condition.

#include <chrono>
#include <memory>
#include <thread>

#include "actors/engine_start.hpp"
#include "net/server.hpp"

namespace pagedserve::testing {

using namespace std::chrono_literals;

inline net::ServerOptions test_options() {
  net::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.model_path = PAGEDSERVE_SOURCE_DIR "/models/stories260K";
  o.request_timeout = 700ms;
  o.num_threads = 2;
  return o;
}

inline std::unique_ptr<actors::Engine> start_engine() {
  actors::EngineConfig c;
  c.model = PAGEDSERVE_SOURCE_DIR "/models/stories260K";
  c.num_gpu_blocks = 512;
  c.swap_space_gib = 0.01;
  return actors::Engine::start(c);
}

template <class F>
bool eventually(F&& f, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!f() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  return f();
}

}  // namespace pagedserve::testing
