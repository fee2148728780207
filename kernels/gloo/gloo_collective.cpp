#include "kernels/gloo/gloo_collective.hpp"

#include <gloo/context.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/transport/unbound_buffer.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>

namespace pagedserve::kernels {

namespace {

using gloo::transport::UnboundBuffer;

// Gloo throws gloo::Exception (a std::runtime_error) and, for a broken
// precondition, gloo::EnforceNotMet (a std::exception): both become a
// std::runtime_error that says where.
template <class F>
auto guarded(const std::string& what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
}

// Slots tell apart the messages between the same two ranks: one for each
// phase of a collective, one for each part of a micro-batch.
constexpr std::uint64_t kReduceScatterSlot = 1, kAllGatherSlot = 2, kGatherColumnsSlot = 3, kWholeBufferSlot = 4;

// Up to this many values received, an all-reduce takes one exchange.
constexpr std::int64_t kWholeBufferFloats = 1 << 16;
constexpr std::uint64_t kHeaderSlot = 11, kXSlot = 12, kResidualSlot = 13;

void require_f32(const Tensor& t, const char* what) {
  if (t.dtype != DType::f32) throw std::invalid_argument(std::string(what) + " takes f32 tensors");
}

}  // namespace

std::shared_ptr<gloo::transport::Device> make_gloo_device(const std::string& host) {
  // Gloo writes to its sockets without MSG_NOSIGNAL: a write to a peer that
  // is gone would end this process with SIGPIPE instead of failing with
  // EPIPE (which fails the operation, as a peer that is gone must).
  static const bool ignoring_sigpipe = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)ignoring_sigpipe;
  return guarded("Gloo cannot listen on " + host, [&] {
    gloo::transport::tcp::attr attr;
    attr.hostname = host;
    return gloo::transport::tcp::CreateDevice(attr);
  });
}

std::shared_ptr<gloo::Context> connect_gloo_mesh(gloo::rendezvous::Store& store,
                                                 std::shared_ptr<gloo::transport::Device> device, int rank, int size,
                                                 std::chrono::milliseconds timeout) {
  if (size < 2 || rank < 0 || rank >= size)
    throw std::invalid_argument("a Gloo mesh needs two ranks or more, and a rank among them");
  return guarded("the Gloo rendezvous of rank " + std::to_string(rank) + " of " + std::to_string(size) + " failed",
                 [&] {
                   auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
                   context->setTimeout(timeout);
                   context->connectFullMesh(store, device);
                   return std::shared_ptr<gloo::Context>(std::move(context));
                 });
}

// --- GlooOperations ------------------------------------------------------------

GlooOperations::GlooOperations(std::shared_ptr<gloo::Context> context) : context_(std::move(context)) {
  if (!context_) throw std::invalid_argument("a Gloo group needs a connected context");
}

GlooOperations::~GlooOperations() = default;

std::unique_ptr<UnboundBuffer> GlooOperations::buffer(void* ptr, std::size_t bytes) {
  auto b = context_->createUnboundBuffer(ptr, bytes);
  std::lock_guard lock(mu_);
  if (aborted_) throw std::runtime_error("the Gloo group was aborted");
  active_.push_back(b.get());
  return b;
}

void GlooOperations::release(UnboundBuffer& b) {
  std::lock_guard lock(mu_);
  active_.erase(std::remove(active_.begin(), active_.end(), &b), active_.end());
}

void GlooOperations::check(const char* what) const {
  std::lock_guard lock(mu_);
  if (aborted_) throw std::runtime_error(std::string(what) + ": the Gloo group was aborted");
}

void GlooOperations::wait_send(UnboundBuffer& b, const char* what) {
  const bool done = guarded(what, [&] { return b.waitSend(context_->getTimeout()); });
  if (!done) throw std::runtime_error(std::string(what) + ": the Gloo group was aborted");
}

void GlooOperations::wait_recv(UnboundBuffer& b, const char* what) {
  const bool done = guarded(what, [&] { return b.waitRecv(context_->getTimeout()); });
  if (!done) throw std::runtime_error(std::string(what) + ": the Gloo group was aborted");
}

void GlooOperations::abort() {
  std::lock_guard lock(mu_);
  if (aborted_) return;
  aborted_ = true;
  for (auto* b : active_) {
    b->abortWaitSend();
    b->abortWaitRecv();
  }
  // Reset, not shut down: the peers' operations throw at once.
  try {
    context_->closeConnections();
  } catch (const std::exception&) {
    // Already broken: nothing left to close.
  }
}

// --- GlooCollective ------------------------------------------------------------

namespace {

// Removes a buffer from the abortable set when an operation ends, however.
struct Tracked {
  GlooOperations& ops;
  std::unique_ptr<UnboundBuffer> b;
  Tracked(GlooOperations& o, void* ptr, std::size_t bytes) : ops(o), b(o.buffer(ptr, bytes)) {}
  ~Tracked() { ops.release(*b); }
  UnboundBuffer* operator->() { return b.get(); }
  UnboundBuffer& operator*() { return *b; }
};

std::int64_t slice_begin(std::int64_t n, int rank, int world) { return n * rank / world; }

}  // namespace

GlooCollective::GlooCollective(std::shared_ptr<gloo::Context> context) : ops_(std::move(context)) {}

int GlooCollective::rank() const { return ops_.context().rank; }
int GlooCollective::world_size() const { return ops_.context().size; }

void GlooCollective::abort() { ops_.abort(); }

// Small buffers (a decode step's): every rank sends its whole buffer to
// every peer, and sums all of them in rank order; one exchange, the
// fewest round trips.
//
// Larger ones: rank r owns the slice [n r / W, n (r + 1) / W). Phase 1:
// every rank sends each peer that peer's slice of its buffer, and sums the
// slices it gets in rank order (the in-process group's order). Phase 2:
// every rank sends its summed slice to every peer, into the same place of
// theirs: each rank sends and receives 2 n (W - 1) / W values, not n (W - 1).
//
// Both sum each element in rank order: the same bits.
void GlooCollective::all_reduce_sum(Tensor t) {
  require_f32(t, "all_reduce_sum");
  const char* what = "all_reduce_sum over Gloo";
  ops_.check(what);
  const int world = world_size(), me = rank();
  const std::int64_t n = t.numel();
  if (n == 0) return;
  float* data = static_cast<float*>(t.data);
  const auto bytes = [](std::int64_t floats) { return static_cast<std::size_t>(floats) * sizeof(float); };
  if (n * (world - 1) <= kWholeBufferFloats) {
    scratch_.resize(static_cast<std::size_t>(n * world));
    {
      Tracked mine(ops_, data, bytes(n));
      Tracked theirs(ops_, scratch_.data(), bytes(n * world));
      for (int peer = 0; peer < world; ++peer) {
        if (peer == me) continue;
        guarded(what, [&] {
          theirs->recv(peer, kWholeBufferSlot, bytes(peer * n), bytes(n));
          mine->send(peer, kWholeBufferSlot);
        });
      }
      for (int i = 1; i < world; ++i) ops_.wait_recv(*theirs, what);
      for (int i = 1; i < world; ++i) ops_.wait_send(*mine, what);
    }
    std::copy(data, data + n, scratch_.begin() + me * n);
    for (std::int64_t i = 0; i < n; ++i) {
      float sum = scratch_[static_cast<std::size_t>(i)];
      for (int r = 1; r < world; ++r) sum += scratch_[static_cast<std::size_t>(r * n + i)];
      data[i] = sum;
    }
    return;
  }
  const auto size_of = [&](int r) { return slice_begin(n, r + 1, world) - slice_begin(n, r, world); };
  const std::int64_t first = slice_begin(n, me, world), count = size_of(me);
  scratch_.resize(static_cast<std::size_t>(count * world));
  {
    Tracked all(ops_, data, bytes(n));
    Tracked theirs(ops_, scratch_.data(), bytes(count * world));
    int sends = 0, recvs = 0;  // an empty slice travels as no message
    for (int peer = 0; peer < world; ++peer) {
      if (peer == me) continue;
      guarded(what, [&] {
        if (count > 0) { theirs->recv(peer, kReduceScatterSlot, bytes(peer * count), bytes(count)); ++recvs; }
        if (size_of(peer) > 0) {
          all->send(peer, kReduceScatterSlot, bytes(slice_begin(n, peer, world)), bytes(size_of(peer)));
          ++sends;
        }
      });
    }
    for (int i = 0; i < recvs; ++i) ops_.wait_recv(*theirs, what);
    for (int i = 0; i < sends; ++i) ops_.wait_send(*all, what);
  }
  // This rank's slice: rank 0's part first, then each rank's in order.
  std::copy(data + first, data + first + count, scratch_.begin() + me * count);
  for (std::int64_t i = 0; i < count; ++i) {
    float sum = scratch_[static_cast<std::size_t>(i)];
    for (int r = 1; r < world; ++r) sum += scratch_[static_cast<std::size_t>(r * count + i)];
    data[first + i] = sum;
  }
  Tracked all(ops_, data, bytes(n));
  int sends = 0, recvs = 0;
  for (int peer = 0; peer < world; ++peer) {
    if (peer == me) continue;
    guarded(what, [&] {
      if (size_of(peer) > 0) {
        all->recv(peer, kAllGatherSlot, bytes(slice_begin(n, peer, world)), bytes(size_of(peer)));
        ++recvs;
      }
      if (count > 0) { all->send(peer, kAllGatherSlot, bytes(first), bytes(count)); ++sends; }
    });
  }
  for (int i = 0; i < recvs; ++i) ops_.wait_recv(*all, what);
  for (int i = 0; i < sends; ++i) ops_.wait_send(*all, what);
}

void GlooCollective::all_gather_columns(const Tensor& local, Tensor out) {
  require_f32(local, "all_gather_columns");
  require_f32(out, "all_gather_columns");
  const char* what = "all_gather_columns over Gloo";
  ops_.check(what);
  const int world = world_size(), me = rank();
  const std::int64_t rows = out.rows;
  const auto cols_of = [&](int r) { return slice_begin(out.cols, r + 1, world) - slice_begin(out.cols, r, world); };
  if (local.rows != rows || local.cols != cols_of(me))
    throw std::logic_error("all_gather_columns: rank " + std::to_string(me) + "'s part is not its share of the output");
  // The peers' parts, one after another in rank order (this rank's left out).
  std::vector<std::int64_t> offset(static_cast<std::size_t>(world), 0);
  std::int64_t total = 0;
  for (int r = 0; r < world; ++r) {
    offset[static_cast<std::size_t>(r)] = total;
    if (r != me) total += rows * cols_of(r);
  }
  scratch_.resize(static_cast<std::size_t>(total));
  if (rows == 0) return;
  {
    const auto bytes = [](std::int64_t floats) { return static_cast<std::size_t>(floats) * sizeof(float); };
    Tracked mine(ops_, local.data, bytes(rows * local.cols));
    Tracked theirs(ops_, scratch_.data(), bytes(total));
    int sends = 0, recvs = 0;
    for (int peer = 0; peer < world; ++peer) {
      if (peer == me) continue;
      guarded(what, [&] {
        if (cols_of(peer) > 0) {
          theirs->recv(peer, kGatherColumnsSlot, bytes(offset[static_cast<std::size_t>(peer)]), bytes(rows * cols_of(peer)));
          ++recvs;
        }
        if (local.cols > 0) { mine->send(peer, kGatherColumnsSlot); ++sends; }
      });
    }
    for (int i = 0; i < recvs; ++i) ops_.wait_recv(*theirs, what);
    for (int i = 0; i < sends; ++i) ops_.wait_send(*mine, what);
  }
  for (int r = 0; r < world; ++r) {
    const std::int64_t cols = cols_of(r), at = slice_begin(out.cols, r, world);
    const float* part = r == me ? static_cast<const float*>(local.data) : scratch_.data() + offset[static_cast<std::size_t>(r)];
    for (std::int64_t row = 0; row < rows; ++row)
      std::copy(part + row * cols, part + (row + 1) * cols, static_cast<float*>(out.data) + row * out.cols + at);
  }
}

// --- GlooStageLink ------------------------------------------------------------

struct GlooStageLink::Outgoing {
  std::uint64_t count = 0;
  HiddenState h;
  std::unique_ptr<UnboundBuffer> header, x, residual;
};

GlooStageLink::GlooStageLink(std::shared_ptr<gloo::Context> context) : ops_(std::move(context)) {
  if (ops_.context().size != 2) throw std::invalid_argument("a pipeline link joins two ranks");
}

GlooStageLink::~GlooStageLink() {
  // Transfers still in progress are dropped: Gloo lets go of buffers that
  // are gone.
  for (auto& out : outgoing_)
    for (auto* b : {out->header.get(), out->x.get(), out->residual.get()}) ops_.release(*b);
}

void GlooStageLink::finish_oldest() {
  auto out = std::move(outgoing_.front());
  outgoing_.pop_front();
  const char* what = "sending hidden states over Gloo";
  ops_.wait_send(*out->header, what);
  if (out->count > 0) {
    ops_.wait_send(*out->x, what);
    ops_.wait_send(*out->residual, what);
  }
  for (auto* b : {out->header.get(), out->x.get(), out->residual.get()}) ops_.release(*b);
}

void GlooStageLink::send(HiddenState h) {
  if (ops_.context().rank != 0) throw std::logic_error("this end of the pipeline link receives");
  if (h.x.size() != h.residual.size()) throw std::invalid_argument("hidden states: x and the residual differ in size");
  while (outgoing_.size() >= kMaxInFlight) finish_oldest();
  ops_.check("sending hidden states over Gloo");
  auto out = std::make_unique<Outgoing>();
  out->count = h.x.size();
  out->h = std::move(h);
  out->header = ops_.buffer(&out->count, sizeof(out->count));
  out->x = ops_.buffer(out->h.x.data(), out->h.x.size() * sizeof(float));
  out->residual = ops_.buffer(out->h.residual.data(), out->h.residual.size() * sizeof(float));
  auto* raw = out.get();
  outgoing_.push_back(std::move(out));
  guarded("sending hidden states over Gloo", [&] {
    raw->header->send(1, kHeaderSlot);
    if (raw->count > 0) {  // an empty micro-batch is its header alone
      raw->x->send(1, kXSlot);
      raw->residual->send(1, kResidualSlot);
    }
  });
}

HiddenState GlooStageLink::receive() {
  if (ops_.context().rank != 1) throw std::logic_error("this end of the pipeline link sends");
  const char* what = "receiving hidden states over Gloo";
  std::uint64_t count = 0;
  {
    Tracked header(ops_, &count, sizeof(count));
    guarded(what, [&] { header->recv(0, kHeaderSlot); });
    ops_.wait_recv(*header, what);
  }
  HiddenState h;
  h.x.resize(count);
  h.residual.resize(count);
  if (count == 0) return h;
  Tracked x(ops_, h.x.data(), count * sizeof(float));
  Tracked residual(ops_, h.residual.data(), count * sizeof(float));
  guarded(what, [&] {
    x->recv(0, kXSlot);
    residual->recv(0, kResidualSlot);
  });
  ops_.wait_recv(*x, what);
  ops_.wait_recv(*residual, what);
  return h;
}

void GlooStageLink::abort() { ops_.abort(); }

}  // namespace pagedserve::kernels
