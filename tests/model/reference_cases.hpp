#pragma once
// The cases of tests/data/reference_greedy.json: what llama2.c prints for
// stories260K at temperature 0.

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace pagedserve::testing {

struct ReferenceCase {
  std::string prompt;
  int steps = 0;
  std::vector<std::int32_t> prompt_ids;
  std::vector<std::int32_t> output_ids;
  std::string stdout_text;
  // llama2.c samples at positions len(prompt)-1 .. steps-1.
  int max_tokens() const { return steps - static_cast<int>(prompt_ids.size()) + 1; }
};

// The source tree's data: PAGEDSERVE_SOURCE_DIR in the environment (a test
// binary run from a bundle on another host), else where it was built.
inline std::string source_dir() {
  const char* env = std::getenv("PAGEDSERVE_SOURCE_DIR");
  return env && *env ? env : PAGEDSERVE_SOURCE_DIR;
}

inline std::vector<ReferenceCase> load_reference_cases() {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(source_dir() + "/tests/data/reference_greedy.json");
  std::vector<ReferenceCase> cases;
  for (simdjson::dom::element c : doc["cases"].get_array()) {
    ReferenceCase rc;
    rc.prompt = std::string(c["prompt"].get_string().value());
    rc.steps = static_cast<int>(c["steps"].get_int64().value());
    for (auto id : c["prompt_ids"].get_array()) rc.prompt_ids.push_back(static_cast<std::int32_t>(id.get_int64().value()));
    for (auto id : c["output_ids"].get_array()) rc.output_ids.push_back(static_cast<std::int32_t>(id.get_int64().value()));
    rc.stdout_text = std::string(c["stdout_text"].get_string().value());
    cases.push_back(std::move(rc));
  }
  return cases;
}

inline std::string stories260k_dir() { return source_dir() + "/models/stories260K"; }

}  // namespace pagedserve::testing
