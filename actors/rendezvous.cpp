#include "actors/rendezvous.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "actors/runtime.hpp"

namespace pagedserve::actors {

namespace {

struct RendezvousState {
  std::unordered_map<std::string, std::string> values;
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<std::string>>> waiting;
  std::unordered_map<std::string, kernels::NcclUniqueId> ids;
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<kernels::NcclUniqueId>>> waiting_ids;
  static inline const char* name = "rendezvous";
};

rendezvous_actor::behavior_type rendezvous(rendezvous_actor::stateful_pointer<RendezvousState> self) {
  return {
      [=](rendezvous_set_atom, const std::string& key, const std::string& value) {
        auto& st = self->state;
        if (!st.values.emplace(key, value).second) return false;
        if (auto it = st.waiting.find(key); it != st.waiting.end()) {
          for (auto& promise : it->second) promise.deliver(value);
          st.waiting.erase(it);
        }
        return true;
      },
      [=](rendezvous_get_atom, const std::string& key) -> caf::result<std::string> {
        auto& st = self->state;
        if (auto it = st.values.find(key); it != st.values.end()) return it->second;
        auto promise = self->make_response_promise<std::string>();
        st.waiting[key].push_back(promise);
        return promise;
      },
      [=](rendezvous_set_atom, const std::string& key, const kernels::NcclUniqueId& id) {
        auto& st = self->state;
        if (!st.ids.emplace(key, id).second) return false;
        if (auto it = st.waiting_ids.find(key); it != st.waiting_ids.end()) {
          for (auto& promise : it->second) promise.deliver(id);
          st.waiting_ids.erase(it);
        }
        return true;
      },
      [=](nccl_id_atom, const std::string& key) -> caf::result<kernels::NcclUniqueId> {
        auto& st = self->state;
        if (auto it = st.ids.find(key); it != st.ids.end()) return it->second;
        auto promise = self->make_response_promise<kernels::NcclUniqueId>();
        st.waiting_ids[key].push_back(promise);
        return promise;
      },
  };
}

}  // namespace

rendezvous_actor spawn_rendezvous(caf::actor_system& system) { return system.spawn(rendezvous); }

void publish_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous, const std::string& key,
                     const kernels::NcclUniqueId& id, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  std::optional<std::string> failed;
  self->request(rendezvous, timeout, rendezvous_set_atom_v, key, id)
      .receive(
          [&](bool fresh) {
            if (!fresh) failed = "the NCCL id '" + key + "' was set twice";
          },
          [&](caf::error& e) { failed = describe(e); });
  if (failed) throw std::runtime_error("handing out NCCL's unique id failed: " + *failed);
}

kernels::NcclUniqueId fetch_nccl_id(caf::actor_system& system, const rendezvous_actor& rendezvous,
                                    const std::string& key, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system};
  kernels::NcclUniqueId id;
  std::optional<std::string> failed;
  self->request(rendezvous, timeout, nccl_id_atom_v, key)
      .receive([&](kernels::NcclUniqueId& got) { id = got; }, [&](caf::error& e) { failed = describe(e); });
  if (failed) throw std::runtime_error("waiting for NCCL's unique id '" + key + "' failed: " + *failed);
  return id;
}

RendezvousStore::RendezvousStore(caf::actor_system& system, rendezvous_actor server, std::chrono::milliseconds timeout)
    : system_(system), server_(std::move(server)), timeout_(timeout) {
  if (!server_) throw std::invalid_argument("a rendezvous store needs the server's rendezvous actor");
}

void RendezvousStore::set(const std::string& key, const std::vector<char>& data) {
  caf::scoped_actor self{system_};
  std::optional<std::string> failed;
  self->request(server_, timeout_, rendezvous_set_atom_v, key, std::string(data.begin(), data.end()))
      .receive(
          [&](bool fresh) {
            if (!fresh) failed = "the key '" + key + "' was set twice";
          },
          [&](caf::error& e) { failed = describe(e); });
  if (failed) throw std::runtime_error("the rendezvous through the server failed: " + *failed);
}

std::string RendezvousStore::get_within(const std::string& key, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{system_};
  std::string value;
  std::optional<std::string> failed;
  self->request(server_, timeout, rendezvous_get_atom_v, key)
      .receive([&](std::string& v) { value = std::move(v); }, [&](caf::error& e) { failed = describe(e); });
  if (failed)
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
