#pragma once
// The executor side of a step: performs a StepPlan (block copies, the model
// forward, sampling) and returns what was drawn. The actor runtime runs one
// per device; tests and the overhead benchmark use them directly.

#include <cstdint>
#include <string>

#include "engine/step_plan.hpp"

namespace pagedserve::engine {

class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  virtual std::string name() const = 0;
  // Throws std::runtime_error when the step cannot run (the requests in it fail).
  virtual StepResult execute(const StepPlan& plan) = 0;
};

// Measures the engine without a model: every sampler draws `token_id` at
// once and beam rows get fixed candidates. Only the overhead benchmark uses
// it; no KV memory is touched.
class NullExecutor final : public StepExecutor {
 public:
  explicit NullExecutor(std::int32_t token_id) : token_id_(token_id) {}
  std::string name() const override { return "null"; }
  StepResult execute(const StepPlan& plan) override;

 private:
  std::int32_t token_id_;
};

}  // namespace pagedserve::engine
