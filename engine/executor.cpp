#include "engine/executor.hpp"

namespace pagedserve::engine {

StepResult NullExecutor::execute(const StepPlan& plan) {
  StepResult result;
  result.step_id = plan.step_id;
  result.rows.resize(plan.rows.size());
  for (std::size_t i = 0; i < plan.rows.size(); ++i) {
    const RowRequest& row = plan.rows[i];
    for (SeqId id : row.samplers()) result.rows[i].samples.push_back({id, token_id_, 0.0f, {}});
    for (int k = 0; k < row.num_candidates; ++k)
      result.rows[i].candidates.push_back({token_id_ + k, -1.0f - static_cast<float>(k)});
  }
  return result;
}

}  // namespace pagedserve::engine
