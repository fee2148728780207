#include "actors/rendezvous.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "actors/runtime.hpp"

namespace pagedserve::actors {

namespace {

// Values of one type by key: a get of a key not yet set waits for it, a
// key set twice keeps its first value (the second set answers false).
template <class T>
struct Board {
  std::unordered_map<std::string, T> values;
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<T>>> waiting;

  bool set(const std::string& key, const T& value) {
    if (!values.emplace(key, value).second) return false;
    if (auto it = waiting.find(key); it != waiting.end()) {
      for (auto& promise : it->second) promise.deliver(value);
      waiting.erase(it);
    }
    return true;
  }

  template <class Self>
  caf::result<T> get(Self* self, const std::string& key) {
    if (auto it = values.find(key); it != values.end()) return it->second;
    auto promise = self->template make_response_promise<T>();
    waiting[key].push_back(promise);
    return promise;
  }
};

struct RendezvousState {
  Board<std::string> strings;          // Gloo's store
  Board<kernels::NcclUniqueId> ids;    // NCCL's unique ids
  static inline const char* name = "rendezvous";
};

rendezvous_actor::behavior_type rendezvous(rendezvous_actor::stateful_pointer<RendezvousState> self) {
  return {
      [=](rendezvous_set_atom, const std::string& key, const std::string& value) {
        return self->state.strings.set(key, value);
      },
      [=](rendezvous_get_atom, const std::string& key) { return self->state.strings.get(self, key); },
      [=](rendezvous_set_atom, const std::string& key, const kernels::NcclUniqueId& id) {
        return self->state.ids.set(key, id);
      },
      [=](nccl_id_atom, const std::string& key) { return self->state.ids.get(self, key); },
  };
}

// Sets `key` to `value` through the actor; why it failed, if it did.
template <class T>
std::optional<std::string> request_set(caf::actor_system& system, const rendezvous_actor& rendezvous,
                                       std::chrono::milliseconds timeout, const std::string& key, const T& value) {
  caf::scoped_actor self{system};
  std::optional<std::string> failed;
  self->request(rendezvous, timeout, rendezvous_set_atom_v, key, value)
      .receive(
          [&](bool fresh) {
            if (!fresh) failed = "the key '" + key + "' was set twice";
          },
          [&](caf::error& e) { failed = describe(e); });
  return failed;
}

// Waits for `key`'s value (asked with `atom`) into `value`; why it
// failed, if it did.
template <class T, class Atom>
std::optional<std::string> request_get(caf::actor_system& system, const rendezvous_actor& rendezvous,
                                       std::chrono::milliseconds timeout, Atom atom, const std::string& key, T& value) {
  caf::scoped_actor self{system};
  std::optional<std::string> failed;
  self->request(rendezvous, timeout, atom, key)
      .receive([&](T& got) { value = std::move(got); }, [&](caf::error& e) { failed = describe(e); });
  return failed;
}

}  // namespace

rendezvous_actor spawn_rendezvous(caf::actor_system& system) { return system.spawn(rendezvous); }

void publish_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous, const std::string& key,
                     const kernels::NcclUniqueId& id, std::chrono::milliseconds timeout) {
  if (auto failed = request_set(system, rendezvous, timeout, key, id))
    throw std::runtime_error("handing out NCCL's unique id failed: " + *failed);
}

kernels::NcclUniqueId fetch_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous,
                                    const std::string& key, std::chrono::milliseconds timeout) {
  kernels::NcclUniqueId id;
  if (auto failed = request_get(system, rendezvous, timeout, nccl_id_atom_v, key, id))
    throw std::runtime_error("waiting for NCCL's unique id '" + key + "' failed: " + *failed);
  return id;
}

RendezvousStore::RendezvousStore(caf::actor_system& system, rendezvous_actor server, std::chrono::milliseconds timeout)
    : system_(system), server_(std::move(server)), timeout_(timeout) {
  if (!server_) throw std::invalid_argument("a rendezvous store needs the server's rendezvous actor");
}

void RendezvousStore::set(const std::string& key, const std::vector<char>& data) {
  if (auto failed = request_set(system_, server_, timeout_, key, std::string(data.begin(), data.end())))
    throw std::runtime_error("the rendezvous through the server failed: " + *failed);
}

std::string RendezvousStore::get_within(const std::string& key, std::chrono::milliseconds timeout) {
  std::string value;
  if (auto failed = request_get(system_, server_, timeout, rendezvous_get_atom_v, key, value))
    throw std::runtime_error("the rendezvous through the server failed: waiting for '" + key + "': " + *failed);
  return value;
}

std::vector<char> RendezvousStore::get(const std::string& key) {
  const auto value = get_within(key, timeout_);
  return {value.begin(), value.end()};
}

void RendezvousStore::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void RendezvousStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  // Gloo's stores read no timeout (zero) as none: ours is never endless.
  const auto deadline = std::chrono::steady_clock::now() + (timeout.count() > 0 ? timeout : timeout_);
  for (const auto& key : keys) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    get_within(key, std::max(left, std::chrono::milliseconds(1)));
  }
}

}  // namespace pagedserve::actors
