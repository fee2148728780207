// A quick `pagedserve bench overhead --json`: the fields it promises, not timings.

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("bench overhead prints one JSON line with the per-step figures", "[bench]") {
  auto r = run_pagedserve("bench overhead --seqs 16 --tokens 1500 --rounds 1 --json --model " PAGEDSERVE_SOURCE_DIR
                          "/models/stories260K");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  CHECK(doc["seqs"].get_int64().value() == 16);
  const double steps_per_s = doc["steps_per_s"].get_double().value();
  const double us_per_step = doc["us_per_step"].get_double().value();
  CHECK(steps_per_s > 0);
  CHECK(us_per_step == Approx(1e6 / steps_per_s));
  // Every sequence gets a token per step while all of them decode.
  CHECK(doc["tokens_per_s"].get_double().value() == Approx(16 * steps_per_s).epsilon(0.05));
  for (const char* key : {"user_us_per_step", "system_us_per_step", "core_us_per_step"})
    CHECK(doc[key].get_double().value() >= 0);
}

TEST_CASE("bench overhead --remote also times the executor across TCP on 127.0.0.1", "[bench]") {
  auto r = run_pagedserve("bench overhead --seqs 8 --tokens 300 --rounds 1 --remote --json --model " PAGEDSERVE_SOURCE_DIR
                          "/models/stories260K");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  const double local = doc["us_per_step"].get_double().value();
  const double remote = doc["remote_us_per_step"].get_double().value();
  CHECK(remote > 0);
  CHECK(doc["remote_added_us_per_step"].get_double().value() == Approx(remote - local));
  // Without --remote there is no remote figure.
  r = run_pagedserve("bench overhead --seqs 8 --tokens 300 --rounds 1 --json --model " PAGEDSERVE_SOURCE_DIR
                     "/models/stories260K");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("remote_us_per_step") == std::string::npos);
}

TEST_CASE("bench overhead refuses bad options with a message", "[bench]") {
  auto r = run_pagedserve("bench overhead --seqs 0");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("seqs") != std::string::npos);
}
