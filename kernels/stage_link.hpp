#pragma once
// Pipeline parallelism's point-to-point channel: the hidden states one
// stage hands to the next, micro-batch by micro-batch, in order. One
// producer, one consumer. The in-process link is a queue between two
// threads: the sender never waits, so a stage moves on to its next
// micro-batch while the next stage works on this one. Between processes
// the link is Gloo's (kernels/gloo/gloo_collective.hpp).
//
// A link that is aborted (a stage failed) makes every receive throw, so
// no stage waits forever for a micro-batch that will not come.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace pagedserve::kernels {

// The residual stream between two layers: x and the output of the last
// block not yet added to it (the next layer's norm adds it), [rows, dim]
// each, as f32.
struct HiddenState {
  std::vector<float> x, residual;
};

class StageLink {
 public:
  virtual ~StageLink() = default;
  virtual void send(HiddenState h) = 0;
  // Waits for the next micro-batch; throws std::runtime_error once aborted
  // (or, between processes, once the other side is gone).
  virtual HiddenState receive() = 0;
  virtual void abort() = 0;
};

// Two threads of one process.
class QueueStageLink final : public StageLink {
 public:
  void send(HiddenState h) override;
  HiddenState receive() override;
  void abort() override;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<HiddenState> queue_;
  bool aborted_ = false;
};

// The links of a pipeline of `stages` stages, each `width` ranks wide
// (tensor parallelism inside a stage): rank t of stage s sends to rank t
// of stage s + 1.
class PipelineLinks {
 public:
  PipelineLinks(int stages, int width);
  // Where stage `stage`'s rank `rank` receives from (null for stage 0) and
  // sends to (null for the last stage).
  StageLink* from(int stage, int rank);
  StageLink* to(int stage, int rank);
  void abort();

 private:
  int stages_, width_;
  std::vector<std::unique_ptr<QueueStageLink>> links_;  // [stages - 1][width]
};

}  // namespace pagedserve::kernels
