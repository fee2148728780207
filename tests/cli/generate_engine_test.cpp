// `pagedserve generate` through the engine: several prompts at once, a pool
// too small for them (both preemption modes), samples and beams.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "../model/reference_cases.hpp"
#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

namespace {

std::string prompts_file() {
  const std::string path = "/tmp/pagedserve_generate_engine_prompts.txt";
  std::ofstream out(path);
  for (const auto& c : pagedserve::testing::load_reference_cases()) out << c.prompt << '\n';
  return path;
}

std::vector<std::vector<std::int32_t>> outputs_of(const std::string& jsonl) {
  simdjson::dom::parser parser;
  std::vector<std::vector<std::int32_t>> all;
  for (auto doc : parser.parse_many(jsonl)) {
    std::vector<std::int32_t> ids;
    for (auto id : doc["output_ids"].get_array()) ids.push_back(static_cast<std::int32_t>(id.get_int64().value()));
    all.push_back(ids);
  }
  return all;
}

}  // namespace

TEST_CASE("generate runs every prompt concurrently and a tiny pool changes nothing", "[cli][engine]") {
  const auto cases = pagedserve::testing::load_reference_cases();
  const std::string base = "generate --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --temperature 0 --json "
                           "--max-tokens 260 --prompts-file " + prompts_file();
  for (const char* pool : {"", " --num-blocks 24 --preemption-mode swap", " --num-blocks 24 --preemption-mode recompute"}) {
    INFO(pool);
    auto r = run_pagedserve(base + pool);
    REQUIRE(r.exit_code == 0);
    auto outs = outputs_of(r.output);
    REQUIRE(outs.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& want = cases[i].output_ids;
      // llama2.c's story as far as both go (its runs stop at their own lengths).
      const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(want.size(), 260));
      REQUIRE(outs[i].size() >= static_cast<std::size_t>(n));
      CHECK(std::vector<std::int32_t>(outs[i].begin(), outs[i].begin() + n) ==
            std::vector<std::int32_t>(want.begin(), want.begin() + n));
    }
  }
}

TEST_CASE("generate --n, --best-of and --use-beam-search", "[cli][engine]") {
  const std::string base = "generate --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --prompt \"Once upon a time\" "
                           "--max-tokens 12 --json";
  auto r = run_pagedserve(base + " --n 3 --temperature 1 --seed 5");
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  CHECK(doc["outputs"].get_array().size() == 3);
  r = run_pagedserve(base + " --use-beam-search --n 2 --best-of 3");
  REQUIRE(r.exit_code == 0);
  doc = parser.parse(r.output);
  CHECK(doc["outputs"].get_array().size() == 2);
  r = run_pagedserve(base + " --preemption-mode sometimes");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--preemption-mode") != std::string::npos);
}
