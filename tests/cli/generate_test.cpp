// `pagedserve generate` as a user runs it.

#include <simdjson.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../model/reference_cases.hpp"
#include "../model/tiny_hf.hpp"
#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

TEST_CASE("generate --json reproduces llama2.c's story for the empty prompt", "[cli]") {
  auto cases = pagedserve::testing::load_reference_cases();
  const auto& c = cases[0];
  auto r = run_pagedserve("generate --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --temperature 0 --json --max-tokens " +
                          std::to_string(c.max_tokens()));
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(r.output);
  std::vector<std::int32_t> out;
  for (auto id : doc["output_ids"].get_array()) out.push_back(static_cast<std::int32_t>(id.get_int64().value()));
  CHECK(out == c.output_ids);
  CHECK(std::string(doc["text"].get_string().value()) == c.stdout_text);
}

TEST_CASE("generate prints the story as text", "[cli]") {
  auto r = run_pagedserve("generate --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --prompt \"Once upon a time\" "
                          "--max-tokens 12 --temperature 0");
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
}

TEST_CASE("generate refuses bad flags and bad models with a message", "[cli]") {
  auto r = run_pagedserve("generate --no-such-flag 1");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown option --no-such-flag") != std::string::npos);
  r = run_pagedserve("generate --temperature abc");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--temperature expects a number") != std::string::npos);
  r = run_pagedserve("generate --top-p 0");
  CHECK(r.exit_code == 2);
  r = run_pagedserve("generate --model /nonexistent/model");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("does not exist") != std::string::npos);
  r = run_pagedserve("generate --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --num-blocks 2 --max-tokens 200");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("KV blocks") != std::string::npos);
}

TEST_CASE("dtype and attention kernel flags: what the device cannot run is refused by name", "[cli]") {
  const std::string model = " --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --max-tokens 2";
  auto r = run_pagedserve("generate --dtype f16" + model);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("the CPU backend computes in f32") != std::string::npos);
  r = run_pagedserve("generate --quantization int4" + model);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("quantization must be one of none, int8") != std::string::npos);
  r = run_pagedserve("generate --dtype fp8" + model);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("dtype must be one of auto, f32, f16, bf16") != std::string::npos);
  r = run_pagedserve("generate --attention-kernel fancy" + model);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--attention-kernel") != std::string::npos);
  CHECK(run_pagedserve("generate --dtype f32 --attention-kernel simple" + model).exit_code == 0);
  CHECK(run_pagedserve("generate --dtype auto" + model).exit_code == 0);
}

TEST_CASE("bf16 and int8 weights on the CPU generate what f32 weights do over a short story", "[cli]") {
  // Greedy margins are wide enough here for either format
  // (tests/model/weight_formats_test measures where they are not).
  const std::string model = " --model " PAGEDSERVE_SOURCE_DIR "/models/stories260K --max-tokens 12 --temperature 0 --json --prompt Lily";
  const auto f32 = run_pagedserve("generate" + model);
  REQUIRE(f32.exit_code == 0);
  for (const char* flags : {" --dtype bf16", " --quantization int8"}) {
    const auto r = run_pagedserve("generate" + std::string(flags) + model);
    INFO(flags);
    CHECK(r.exit_code == 0);
    CHECK(r.output == f32.output);
  }
}

TEST_CASE("an unknown command is refused", "[cli]") {
  auto r = run_pagedserve("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown command") != std::string::npos);
}

TEST_CASE("generate takes the sampling flags it is not given from generation_config.json", "[cli]") {
  // A tiny model whose generation_config.json asks for greedy decoding: runs
  // without --temperature are greedy, the same as --temperature 0.
  const auto dir = pagedserve::testing::temp_dir("cli-genconfig");
  pagedserve::testing::write_tiny_hf(pagedserve::testing::make_tiny_checkpoint({}), dir);
  std::ofstream(dir + "/tokenizer.json") << pagedserve::testing::tiny_tokenizer_json();
  std::ofstream(dir + "/generation_config.json") << R"({"temperature":0.0,"top_k":5})";
  const std::string base = "generate --model " + dir + " --prompt abc --max-tokens 10 --ignore-eos --json";
  const auto greedy = run_pagedserve(base + " --temperature 0");
  REQUIRE(greedy.exit_code == 0);
  for (int run = 0; run < 2; ++run) {
    const auto defaulted = run_pagedserve(base);
    REQUIRE(defaulted.exit_code == 0);
    CHECK(defaulted.output == greedy.output);
  }
  std::filesystem::remove_all(dir);
}
