#pragma once
// The responses kept in memory so that a later request can continue one
// with previous_response_id: each response's whole conversation (that of
// the response it continued, its own input, then its answer; instructions
// are not carried over).
//
// Bounded, oldest forgotten first: at most max_responses responses and
// max_bytes of message text in all. Thread-safe.

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/chat_request.hpp"

namespace pagedserve::net {

class ResponseStore {
 public:
  explicit ResponseStore(std::size_t max_responses = 1024, std::size_t max_bytes = std::size_t{64} << 20);

  void put(const std::string& id, std::vector<ChatMessage> conversation);
  // nullopt for an id never stored or already forgotten.
  std::optional<std::vector<ChatMessage>> get(const std::string& id) const;
  std::size_t size() const;

 private:
  struct Entry {
    std::vector<ChatMessage> conversation;
    std::size_t bytes = 0;
    std::list<std::string>::iterator position;
  };
  void forget_oldest();

  std::size_t max_responses_, max_bytes_;
  mutable std::mutex mu_;
  std::list<std::string> order_;  // oldest first
  std::unordered_map<std::string, Entry> entries_;
  std::size_t bytes_ = 0;
};

}  // namespace pagedserve::net
