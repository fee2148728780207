// A quick `pagedserve bench memory --json`: its output's invariants, not timings.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <unistd.h>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("bench memory prints one JSON line with every system and sharing figure", "[bench]") {
  auto r = run_pagedserve("bench memory --num-requests 150 --kv-tokens 6000 --max-len 1024 --json --engine " PAGEDSERVE_SOURCE_DIR
                          "/models/stories260K --engine-requests 24");
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  CHECK(doc["block_size"].get_int64().value() == 16);
  // The prefix cache's keyed hash, per 16-token block: well under a decode step.
  const double hash_ns = doc["block_hash_ns"].get_double().value();
  CHECK(hash_ns > 0);
  CHECK(hash_ns < 20000);
  double paged_rate = 0;
  for (const char* sys : {"paged", "orca_max", "orca_pow2", "orca_oracle"}) {
    INFO(sys);
    auto s = doc["systems"][sys];
    const double u = s["utilization"].get_double().value();
    CHECK(u > 0);
    CHECK(u <= 1.0);
    CHECK(s["max_rate"].get_double().value() > 0);
    CHECK(s["max_concurrent"].get_int64().value() >= 1);
    if (std::string(sys) == "paged") paged_rate = s["max_rate"].get_double().value();
    else CHECK(paged_rate >= s["max_rate"].get_double().value());
  }
  for (const char* kind : {"parallel_sampling", "beam_search"})
    for (const char* k : {"2", "4", "6"}) {
      const double saving = doc["sharing"][kind][k].get_double().value();
      CHECK(saving > 0);
      CHECK(saving < 100);
    }
  auto check = doc["engine_check"];
  CHECK(check["engine_preemptions"].get_int64().value() == check["sim_preemptions"].get_int64().value());
  CHECK(check["engine_utilization"].get_double().value() == Approx(check["sim_utilization"].get_double().value()).margin(0.03));
}

TEST_CASE("bench memory writes its charts", "[bench]") {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    WARN("gnuplot is not installed: charts not tested");
    return;
  }
  const std::string dir = "/tmp/pagedserve-plots-" + std::to_string(::getpid());
  auto r = run_pagedserve("bench memory --num-requests 60 --kv-tokens 6000 --max-len 1024 --plot " + dir);
  REQUIRE(r.exit_code == 0);
  for (const char* png : {"utilization.png", "running.png", "latency.png", "sharing.png"})
    CHECK(std::ifstream(dir + "/" + png).good());
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("bench memory refuses bad options", "[bench]") {
  auto r = run_pagedserve("bench memory --max-len 9000 --kv-tokens 100");
  CHECK(r.exit_code == 2);
  r = run_pagedserve("bench memory --trace /nonexistent");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("cannot read trace file") != std::string::npos);
  r = run_pagedserve("bench nosuch");
  CHECK(r.exit_code == 2);
}
