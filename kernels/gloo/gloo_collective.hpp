#pragma once
// The collectives and the pipeline link between processes, over TCP with
// Gloo (libgloo, Debian's libgloo-dev): one rank per process, each process
// a member of a full mesh of TCP connections that Gloo opens after a
// rendezvous through a key-value store. The store is the caller's: the
// worker processes meet through their server's control link
// (actors/rendezvous.hpp), the unit tests through memory or files.
//
// The sums are the in-process group's (kernels/collective.hpp), bit for
// bit: every element is summed in rank order, by every rank from every
// rank's buffer (small buffers: one exchange), or by the rank that owns
// its slice, which then sends the sums to every rank (a reduce-scatter
// and an all-gather of point-to-point messages). Every rank ends with the
// same bits, and the same bits as ranks that are threads.
//
// Failure: a peer that is gone (its process died: the kernel closes its
// sockets) makes every operation in progress or to come throw
// std::runtime_error; a peer that hangs does so after the timeout. abort()
// releases a rank waiting in an operation and closes its connections, so
// its peers throw too.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/collective.hpp"
#include "kernels/stage_link.hpp"

namespace gloo {
class Context;
namespace rendezvous {
class Store;
}
namespace transport {
class Device;
class UnboundBuffer;
}  // namespace transport
}  // namespace gloo

namespace pagedserve::kernels {

// How long a Gloo operation or rendezvous waits for a peer before it
// counts as failed. A peer that exits is noticed at once (its sockets
// close); this bounds a peer that hangs. It must exceed the longest
// stage of one step (a pipeline stage waits for the one before it).
inline constexpr std::chrono::milliseconds kGlooTimeout{60000};

// The TCP device a process's connections listen on: `host` is the
// address (or name) of the interface its peers reach it at; each
// connection listens on a port of its own that the kernel picks.
std::shared_ptr<gloo::transport::Device> make_gloo_device(const std::string& host);

// Rank `rank` of a full mesh of `size` ranks that meet through `store`:
// every rank calls this with its own rank and the same store (its keys
// under a prefix of their own for each mesh: gloo::rendezvous::PrefixStore).
// Blocks until every peer has called it too; throws std::runtime_error
// after `timeout`.
std::shared_ptr<gloo::Context> connect_gloo_mesh(gloo::rendezvous::Store& store,
                                                 std::shared_ptr<gloo::transport::Device> device, int rank, int size,
                                                 std::chrono::milliseconds timeout = kGlooTimeout);

// Tracks the transfers in progress so abort() can release their waits.
class GlooOperations {
 public:
  explicit GlooOperations(std::shared_ptr<gloo::Context> context);
  ~GlooOperations();
  gloo::Context& context() const { return *context_; }
  // A buffer over [ptr, ptr + bytes) that abort() can release.
  std::unique_ptr<gloo::transport::UnboundBuffer> buffer(void* ptr, std::size_t bytes);
  // Wait for one posted send or receive on `b`; throw std::runtime_error
  // naming `what` on a peer's failure, a timeout or an abort.
  void wait_send(gloo::transport::UnboundBuffer& b, const char* what);
  void wait_recv(gloo::transport::UnboundBuffer& b, const char* what);
  void release(gloo::transport::UnboundBuffer& b);
  // Throws once aborted.
  void check(const char* what) const;
  void abort();

 private:
  std::shared_ptr<gloo::Context> context_;
  mutable std::mutex mu_;
  std::vector<gloo::transport::UnboundBuffer*> active_;
  bool aborted_ = false;
};

// This process's rank of a tensor-parallel group.
class GlooCollective final : public Collective {
 public:
  explicit GlooCollective(std::shared_ptr<gloo::Context> context);
  int rank() const override;
  int world_size() const override;
  void all_reduce_sum(Tensor t) override;
  // Rank j's part has the columns [cols * j / world, cols * (j + 1) / world)
  // of `out` (model::vocab_range's split): a rank's part of another width
  // throws std::logic_error.
  void all_gather_columns(const Tensor& local, Tensor out) override;
  // Releases a wait in progress and closes the connections (the peers'
  // operations throw); every later operation throws.
  void abort();

 private:
  GlooOperations ops_;
  std::vector<float> scratch_;  // the other ranks' slices or parts; grown, then reused
};

// One end of a pipeline link between two processes: a mesh of two ranks,
// rank 0 the stage that sends, rank 1 the stage that receives. A micro-
// batch is its size, then x, then the residual. The sender does not wait
// for the receiver while fewer than kMaxInFlight micro-batches are on
// their way (more than a step's: the steps keep the stages in step).
class GlooStageLink final : public StageLink {
 public:
  explicit GlooStageLink(std::shared_ptr<gloo::Context> context);
  ~GlooStageLink() override;
  void send(HiddenState h) override;
  HiddenState receive() override;
  void abort() override;

 private:
  static constexpr std::size_t kMaxInFlight = 16;
  struct Outgoing;
  void finish_oldest();

  GlooOperations ops_;
  std::deque<std::unique_ptr<Outgoing>> outgoing_;  // the micro-batches in transfer, oldest first
};

}  // namespace pagedserve::kernels
