#pragma once
// generation_config.json: the sampling defaults a model ships with and the
// tokens that end its generation. As vLLM does by default, a request that
// leaves a sampling parameter out gets the model's value, not OpenAI's.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pagedserve::model {

struct SamplingParams;

// The sampling parameters the model's generation_config.json sets.
struct GenerationDefaults {
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;

  bool empty() const { return !temperature && !top_p && !min_p && !repetition_penalty && !top_k; }
  // "temperature=0.7 top_p=0.8 ..." for the start-up log; "" when empty.
  std::string describe() const;
  // What a request starts from: SamplingParams' defaults with the model's
  // values in place.
  SamplingParams sampling() const;
};

struct GenerationConfig {
  GenerationDefaults defaults;
  std::vector<std::int32_t> eos_ids;  // eos_token_id, one id or a list
};

// Parses generation_config.json text; throws std::runtime_error prefixed
// with `where` naming a mistyped field.
GenerationConfig parse_generation_config(const std::string& json_text, const std::string& where);

}  // namespace pagedserve::model
