// The Gloo rendezvous through the server's rendezvous actor: a get waits
// for its key, a key is set once, a missing key times out, and ranks that
// meet through it exchange data over Gloo.

#include "actors/rendezvous.hpp"

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "actors/engine_start.hpp"
#include "kernels/gloo/gloo_collective.hpp"

using namespace pagedserve;
using namespace std::chrono_literals;

TEST_CASE("the rendezvous actor answers a get once its key is set, and keeps a key's first value", "[rendezvous]") {
  auto runtime = actors::make_runtime(false);
  auto server = actors::spawn_rendezvous(*runtime.system);
  actors::RendezvousStore a(*runtime.system, server, 5s), b(*runtime.system, server, 5s);
  auto waiting = std::async(std::launch::async, [&] { return b.get("k"); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);  // not set yet
  a.set("k", {'v', '\0', '1'});
  CHECK(waiting.get() == std::vector<char>{'v', '\0', '1'});
  CHECK(b.get("k") == std::vector<char>{'v', '\0', '1'});
  CHECK_THROWS_WITH(b.set("k", {'w'}), Catch::Contains("the key 'k' was set twice"));
  actors::RendezvousStore impatient(*runtime.system, server, 50ms);
  CHECK_THROWS_WITH(impatient.get("never"), Catch::Contains("waiting for 'never'"));
  CHECK_THROWS_WITH(impatient.wait({"k", "never"}, 50ms), Catch::Contains("waiting for 'never'"));
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
}

TEST_CASE("an NCCL id goes from its group's rank 0 to the others through the rendezvous actor", "[rendezvous][nccl]") {
  auto runtime = actors::make_runtime(false);
  auto server = actors::spawn_rendezvous(*runtime.system);
  kernels::NcclUniqueId id;
  for (std::size_t i = 0; i < id.internal.size(); ++i) id.internal[i] = static_cast<char>(255 - i);
  // Ranks that ask first wait for rank 0.
  auto early = std::async(std::launch::async, [&] { return actors::fetch_nccl_id(*runtime.system, server, "nccl.tp1", 5s); });
  CHECK(early.wait_for(100ms) == std::future_status::timeout);
  actors::publish_nccl_id(*runtime.system, server, "nccl.tp1", id, 5s);
  CHECK(early.get() == id);
  CHECK(actors::fetch_nccl_id(*runtime.system, server, "nccl.tp1", 5s) == id);  // and later ones at once
  // Ids and strings have keys of their own; an id is set once.
  CHECK_THROWS_WITH(actors::publish_nccl_id(*runtime.system, server, "nccl.tp1", kernels::NcclUniqueId{}, 5s),
                    Catch::Contains("'nccl.tp1' was set twice"));
  CHECK_THROWS_WITH(actors::fetch_nccl_id(*runtime.system, server, "nccl.tp9", 50ms),
                    Catch::Contains("waiting for NCCL's unique id 'nccl.tp9'"));
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
}

TEST_CASE("ranks that meet through the rendezvous actor sum over Gloo", "[rendezvous]") {
  auto runtime = actors::make_runtime(false, 2);
  auto server = actors::spawn_rendezvous(*runtime.system);
  auto device = kernels::make_gloo_device("127.0.0.1");
  std::vector<std::future<float>> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(std::async(std::launch::async, [&, r] {
      actors::RendezvousStore store(*runtime.system, server, 10s);
      kernels::GlooCollective c(kernels::connect_gloo_mesh(store, device, r, 2));
      float x = static_cast<float>(r + 1);
      c.all_reduce_sum(kernels::Tensor{&x, kernels::DType::f32, 1, 1});
      return x;
    }));
  for (auto& f : ranks) CHECK(f.get() == 3.0f);
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
}
