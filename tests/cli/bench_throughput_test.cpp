// A quick `pagedserve bench throughput --json` on the embedded model: the
// fields it promises and how they relate, not timings.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <utility>

#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

namespace {

const std::string kQuick = "bench throughput --batch 1,2 --tokens 4 --repeat 1 --json --model " PAGEDSERVE_SOURCE_DIR
                           "/models/stories260K";

}  // namespace

TEST_CASE("bench throughput reports the bandwidth probe and the weights' bandwidth of each batch", "[bench]") {
  auto r = run_pagedserve(kQuick);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  CHECK(std::string(doc["weights"].get_string().value()) == "f32");
  const double bytes = static_cast<double>(doc["weight_bytes_per_step"].get_int64().value());
  CHECK(bytes > 0);
  CHECK(doc["memory_bandwidth"]["copy_gbps"].get_double().value() > 0);
  CHECK(doc["memory_bandwidth"]["read_gbps"].get_double().value() > 0);
  for (auto run : doc["runs"].get_array()) {
    const double batch = static_cast<double>(run["batch"].get_int64().value());
    const double tps = run["tokens_per_s"].get_double().value();
    CHECK(run["weight_gbps"].get_double().value() == Approx(bytes * tps / batch / 1e9));
  }
}

TEST_CASE("bench throughput runs bf16 and int8 weights on every GEMV path, and says so", "[bench]") {
  simdjson::dom::parser parser;
  auto f32 = run_pagedserve(kQuick + " --no-probe");
  REQUIRE(f32.exit_code == 0);
  const auto f32_bytes = parser.parse(f32.output)["weight_bytes_per_step"].get_int64().value();
  for (const char* flags : {" --dtype bf16", " --quantization int8"}) {
    for (const char* isa : {" --isa scalar", ""}) {
      auto r = run_pagedserve(kQuick + " --no-probe" + flags + isa);
      INFO(flags << isa << ": " << r.output);
      REQUIRE(r.exit_code == 0);
      auto doc = parser.parse(r.output);
      CHECK(doc["memory_bandwidth"].error() == simdjson::NO_SUCH_FIELD);
      const auto bytes = doc["weight_bytes_per_step"].get_int64().value();
      // bf16: half of f32's bytes; int8: a quarter plus a scale per 32 (the
      // norms stay f32 in both, so slightly more).
      if (std::string(flags) == " --dtype bf16") {
        CHECK(std::string(doc["weights"].get_string().value()) == "bf16");
        CHECK(bytes == Approx(f32_bytes / 2).epsilon(0.02));
      } else {
        CHECK(std::string(doc["weights"].get_string().value()) == "q8_0");
        CHECK(bytes == Approx(f32_bytes * 1.125 / 4).epsilon(0.05));
      }
    }
  }
}

TEST_CASE("bench throughput refuses an unknown GEMV path or quantization", "[bench]") {
  auto r = run_pagedserve(kQuick + " --isa sse9");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("--isa must be scalar, avx2 or avx512") != std::string::npos);
  r = run_pagedserve(kQuick + " --quantization int4");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("quantization must be one of none, int8") != std::string::npos);
}

TEST_CASE("bench throughput runs the model split by tensor and pipeline parallelism, and says so", "[bench]") {
  for (auto [tp, pp] : {std::pair{2, 1}, std::pair{1, 2}, std::pair{2, 5}}) {
    INFO("tp " << tp << " pp " << pp);
    auto r = run_pagedserve(kQuick + " --no-probe --tensor-parallel-size " + std::to_string(tp) +
                            " --pipeline-parallel-size " + std::to_string(pp));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    simdjson::dom::parser parser;
    auto doc = parser.parse(r.output);
    CHECK(doc["tensor_parallel_size"].get_int64().value() == tp);
    CHECK(doc["pipeline_parallel_size"].get_int64().value() == pp);
    for (auto run : doc["runs"].get_array()) CHECK(run["tokens_per_s"].get_double().value() > 0);
  }
  auto r = run_pagedserve(kQuick + " --no-probe --pipeline-parallel-size 6");
  CHECK(r.exit_code != 0);
  CHECK(r.output.find("exceeds the model's 5 layers") != std::string::npos);
}
