#pragma once
// The Gloo rendezvous of a model split over worker processes, over the
// worker link itself: no shared filesystem, no store of Gloo's own.
//
// The server spawns a rendezvous actor for each start: a key-value store
// of plain values in its memory. Each worker's Gloo mesh setup
// (kernels::connect_gloo_mesh) writes its connections' addresses there and
// reads its peers' through a RendezvousStore, whose set and get are
// requests to that actor over the link that carries the setup.

#include <gloo/rendezvous/store.h>

#include <caf/all.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "actors/protocol.hpp"

namespace pagedserve::actors {

// A store whose get waits until its key is set. A key set twice keeps the
// first value and answers false. Strings and NCCL ids have keys of their
// own.
rendezvous_actor spawn_rendezvous(caf::actor_system& system);

// NCCL's unique id of one GPU group, from the rank that made it (the
// group's rank 0) to the others, as a message of its own (a
// kernels::NcclUniqueId). From any thread but the actor system's own;
// publish throws std::runtime_error when `key` was set before, fetch
// waits until it is set and throws after `timeout`.
void publish_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous, const std::string& key,
                     const kernels::NcclUniqueId& id, std::chrono::milliseconds timeout);
kernels::NcclUniqueId fetch_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous,
                                    const std::string& key, std::chrono::milliseconds timeout);

// Gloo's view of a rendezvous actor, from any thread but the actor
// system's own: each call blocks the caller until the answer comes, and
// throws std::runtime_error after `timeout` or when the server is gone.
class RendezvousStore final : public gloo::rendezvous::Store {
 public:
  RendezvousStore(caf::actor_system& system, rendezvous_actor server, std::chrono::milliseconds timeout);
  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  std::string get_within(const std::string& key, std::chrono::milliseconds timeout);

  caf::actor_system& system_;
  rendezvous_actor server_;
  std::chrono::milliseconds timeout_;
};

}  // namespace pagedserve::actors
