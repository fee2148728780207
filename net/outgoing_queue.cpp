#include "net/outgoing_queue.hpp"

#include <stdexcept>

namespace pagedserve::net {

bool OutgoingQueue::push(std::string message) {
  if (num_bytes_ + message.size() > max_bytes_) return false;
  push_always(std::move(message));
  return true;
}

void OutgoingQueue::push_always(std::string message) {
  num_bytes_ += message.size();
  pending_.push_back(std::move(message));
}

void OutgoingQueue::drop_pending() {
  pending_.clear();
  num_bytes_ = in_flight_bytes_;
}

std::string OutgoingQueue::take_one() {
  if (in_flight_ || pending_.empty()) throw std::logic_error("OutgoingQueue: nothing to take");
  std::string out = std::move(pending_.front());
  pending_.pop_front();
  in_flight_ = true;
  in_flight_bytes_ = out.size();
  return out;
}

std::string OutgoingQueue::take_all() {
  if (in_flight_ || pending_.empty()) throw std::logic_error("OutgoingQueue: nothing to take");
  std::string out;
  for (auto& m : pending_) out += m;
  pending_.clear();
  in_flight_ = true;
  in_flight_bytes_ = out.size();
  return out;
}

void OutgoingQueue::written() {
  num_bytes_ -= in_flight_bytes_;
  in_flight_bytes_ = 0;
  in_flight_ = false;
}

}  // namespace pagedserve::net
