#pragma once
// The thread that runs one executor's steps, in the order they are posted.
//
// A step is long and must not hold a scheduler worker, and the device wants
// one calling thread (the CPU backend's OpenMP team and a CUDA context
// belong to the thread that drives them). The executor actor is an ordinary
// event-based actor that owns this plain thread rather than a detached
// actor: CAF 0.17's detached actors can hang their actor system's shutdown,
// whose private thread waits for the actor's last reference (which the
// network layer may still hold for a published executor).

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/executor.hpp"

namespace pagedserve::actors {

class StepThread {
 public:
  using Finished = std::function<void(engine::StepResult)>;
  using Failed = std::function<void(const std::string& what)>;

  // `finished` and `failed` are called on the step thread. After a failure
  // the KV cache is in an unknown state: later plans are dropped.
  StepThread(std::shared_ptr<engine::StepExecutor> executor, Finished finished, Failed failed);
  // Waits for the step in progress, drops the plans not started, and lets
  // go of the executor on the step thread (its device state was made there).
  ~StepThread();
  StepThread(const StepThread&) = delete;
  StepThread& operator=(const StepThread&) = delete;

  void post(engine::StepPlan plan);

 private:
  void run();
  bool next(engine::StepPlan& plan);

  std::shared_ptr<engine::StepExecutor> executor_;
  Finished finished_;
  Failed failed_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<engine::StepPlan> plans_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace pagedserve::actors
