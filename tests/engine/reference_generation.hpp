#pragma once
// Every llama2.c reference story as a greedy request, and the check that a
// generator's outputs are those stories token for token.

#include <catch2/catch.hpp>

#include <vector>

#include "engine/generator.hpp"
#include "../model/reference_cases.hpp"

namespace pagedserve::testing {

inline std::vector<engine::GenerationRequest> greedy_reference_requests(const std::vector<ReferenceCase>& cases) {
  std::vector<engine::GenerationRequest> requests;
  for (const auto& rc : cases) {
    engine::GenerationRequest r;
    r.prompt_ids = rc.prompt_ids;
    r.params.temperature = 0;
    r.params.max_tokens = rc.max_tokens();
    requests.push_back(r);
  }
  return requests;
}

// Generates every reference story with `gen` and checks each output.
inline void check_reference_stories(engine::Generator& gen) {
  const auto cases = load_reference_cases();
  const auto out = gen.generate(greedy_reference_requests(cases));
  REQUIRE(out.size() == cases.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    INFO("request " << i << ": " << cases[i].prompt);
    CHECK(out[i].output_ids == cases[i].output_ids);
  }
}

}  // namespace pagedserve::testing
