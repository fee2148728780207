// A quick `pagedserve bench grammar --json`: the fields it promises, not timings.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <initializer_list>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

namespace {

// Rows of `array` that have every key of `keys` as a positive number.
int count_positive_rows(simdjson::dom::array array, std::initializer_list<const char*> keys) {
  int rows = 0;
  for (auto row : array) {
    bool all = true;
    for (const char* key : keys) all = all && row[key].get_double().value() > 0;
    rows += all ? 1 : 0;
  }
  return rows;
}

}  // namespace

TEST_CASE("bench grammar prints mask times and decode rates plain, constrained and constrained with serial masks",
          "[bench][grammar]") {
  simdjson::dom::parser parser;
  const auto result = run_pagedserve("bench grammar --batch 1,2 --tokens 8 --json --tokenizer " PAGEDSERVE_SOURCE_DIR
                                     "/models/stories260K/tok512.bin");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  const simdjson::dom::element doc = parser.parse(result.output);
  CHECK(doc["compile_ms"].get_double().value() > 0);
  CHECK(count_positive_rows(doc["masks"], {"cold_us", "warm_us", "advance_us"}) == 4);  // two vocabularies at two batch sizes
  CHECK(count_positive_rows(doc["decode"], {"plain_tokens_per_s", "constrained_tokens_per_s", "constrained_serial_tokens_per_s"}) == 2);
}

TEST_CASE("bench grammar refuses bad options with a message", "[bench][grammar]") {
  auto r = run_pagedserve("bench grammar --tokens 0");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("tokens") != std::string::npos);
}
