#pragma once
// What the engine accepts: the checks made before a request is queued (the
// actor engine's submit(), offline generation), so a bad request never
// reaches the scheduler. Every refusal names the parameter at fault (OpenAI
// style).

#include "engine/request.hpp"

namespace pagedserve::engine {

struct RequestLimits {
  int vocab_size = 0;
  int max_model_len = 0;
  int max_n = 16;          // n, best_of, beam width
  int max_num_seqs = 256;
  int block_size = 16;
  int num_usable_gpu_blocks = 0;  // the pool less the admission watermark
  int sliding_window = 0;  // the model's attention window, which caps max_model_len (Mistral); 0: none

  // An empty SubmitResult when the request may be queued.
  SubmitResult check(const GenerateRequest& r) const;

 private:
  SubmitResult check_sampling(const GenerateRequest& r) const;
  SubmitResult check_memory(const GenerateRequest& r) const;
};

}  // namespace pagedserve::engine
