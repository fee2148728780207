#include "net/response_store.hpp"

namespace pagedserve::net {

ResponseStore::ResponseStore(std::size_t max_responses, std::size_t max_bytes)
    : max_responses_(max_responses), max_bytes_(max_bytes) {}

void ResponseStore::put(const std::string& id, std::vector<ChatMessage> conversation) {
  std::size_t bytes = 0;
  for (const auto& m : conversation) bytes += m.role.size() + m.content.size();
  if (bytes > max_bytes_ || max_responses_ == 0) return;  // could never be kept
  std::lock_guard lock(mu_);
  if (entries_.count(id)) return;
  while (!order_.empty() && (entries_.size() >= max_responses_ || bytes_ + bytes > max_bytes_)) forget_oldest();
  order_.push_back(id);
  entries_[id] = Entry{std::move(conversation), bytes, std::prev(order_.end())};
  bytes_ += bytes;
}

std::optional<std::vector<ChatMessage>> ResponseStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.conversation;
}

std::size_t ResponseStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void ResponseStore::forget_oldest() {
  auto it = entries_.find(order_.front());
  bytes_ -= it->second.bytes;
  entries_.erase(it);
  order_.pop_front();
}

}  // namespace pagedserve::net
