#include "engine/executor.hpp"

namespace pagedserve::engine {

StepResult NullExecutor::execute(const StepPlan& plan) {
  StepResult result;
  result.step_id = plan.step_id;
  result.rows.reserve(plan.rows.size());
  result.samples.reserve(plan.rows.size());
  for (const RowRequest& row : plan.rows) {
    auto& r = result.add_row();
    for (SeqId id : row.samplers()) result.add_sample({id, token_id_, 0.0f, {}});
    for (int k = 0; k < row.num_candidates; ++k) r.candidates.push_back({token_id_ + k, -1.0f - static_cast<float>(k)});
  }
  return result;
}

}  // namespace pagedserve::engine
