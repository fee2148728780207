#pragma once
// Bytes waiting to go out on one connection, bounded so a client that reads
// too slowly cannot make the server buffer without limit: push() refuses
// once the queue (including the write in flight) holds more than the limit,
// and the caller then cancels the request instead of buffering.
//
// Invariant: num_bytes_ == sum of pending_ sizes + in_flight_bytes_;
// at most one batch is in flight (taken and not yet completed).

#include <cstddef>
#include <deque>
#include <string>

namespace pagedserve::net {

class OutgoingQueue {
 public:
  explicit OutgoingQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Queues `message`; false (and nothing queued) when it would pass the limit.
  bool push(std::string message);
  // Queues `message` whatever the limit: small terminal messages (an error,
  // [DONE]) that must not be lost once a client is cut off.
  void push_always(std::string message);

  // Drops what is pending (not the write in flight): the connection is
  // being closed and nobody will read it.
  void drop_pending();

  bool writing() const { return in_flight_; }
  bool empty() const { return pending_.empty(); }
  std::size_t num_bytes() const { return num_bytes_; }

  // The next message to write (one WebSocket frame) or, joined, everything
  // pending (a stream of bytes); marks it in flight.
  std::string take_one();
  std::string take_all();
  // The write in flight has completed.
  void written();

 private:
  std::size_t max_bytes_;
  std::deque<std::string> pending_;
  std::size_t num_bytes_ = 0;
  std::size_t in_flight_bytes_ = 0;
  bool in_flight_ = false;
};

}  // namespace pagedserve::net
