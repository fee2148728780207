// `pagedserve export-gguf` as a user runs it: help, refusals with their
// exit codes, and files written from each kind of model source.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "kernels/synthetic.hpp"
#include "model/gguf_reader.hpp"
#include "model/loader.hpp"
#include "run_command.hpp"

using pagedserve::testing::run_pagedserve;

namespace {

std::string out_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("pagedserve-export-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace

TEST_CASE("export-gguf prints its help and refuses bad command lines", "[cli]") {
  auto help = run_pagedserve("export-gguf -h");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("usage: pagedserve export-gguf") != std::string::npos);
  CHECK(run_pagedserve("--help").output.find("export-gguf") != std::string::npos);
  struct Refusal {
    std::string args;
    int exit_code;
    std::string message;
  };
  for (const auto& r : std::vector<Refusal>{
           {"--model dummy:stories260K", 2, "--out FILE are required"},
           {"dummy:stories260K --out x.gguf --outtype q4_0", 2, "--outtype must be f32 or f16, got 'q4_0'"},
           {"dummy:stories260K --model dummy:stories15M --out x.gguf", 2, "the model is given twice"},
           {"dummy:stories260K --out x.gguf --quantize", 2, "--quantize"},
           {"/no/such/model --out x.gguf", 1, "does not exist"},
           {"dummy:stories260K --out /no/such/dir/x.gguf", 1, "cannot write /no/such/dir/x.gguf"},
       }) {
    auto got = run_pagedserve("export-gguf " + r.args);
    INFO(r.args << ": " << got.output);
    CHECK(got.exit_code == r.exit_code);
    CHECK(got.output.find(r.message) != std::string::npos);
  }
}

TEST_CASE("export-gguf writes the embedded model and dummy weights", "[cli]") {
  const auto dir = out_dir();
  auto r = run_pagedserve("export-gguf " + std::string(PAGEDSERVE_SOURCE_DIR) + "/models/stories260K --out " + dir +
                          "/s.gguf --outtype f16");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("llama, 5 layers, dim 64, vocab 512, f16 matrices") != std::string::npos);
  pagedserve::testing::GgufFile stories(dir + "/s.gguf");
  CHECK(stories.kv.at("tokenizer.ggml.model").string() == "llama");
  CHECK(stories.kv.at("general.name").string() == "stories260K");

  r = run_pagedserve("export-gguf --model dummy:stories260K --seed 3 --out " + dir + "/d.gguf");
  CHECK(r.exit_code == 0);
  pagedserve::testing::GgufFile dummy(dir + "/d.gguf");
  CHECK(dummy.kv.at("tokenizer.ggml.tokens").strings.size() == 512);
  CHECK(dummy.kv.at("tokenizer.ggml.tokens").strings[3] == "<0x00>");
  // The values the backends generate for these synthetic weights.
  pagedserve::model::LoadOptions options;
  options.dummy_seed = 3;
  const auto m = pagedserve::model::load_model("dummy:stories260K", options);
  const auto& fill = *m.weights.layers[2].w_down.synthetic;
  const auto down = dummy.values("blk.2.ffn_down.weight");
  REQUIRE(down.size() == 64 * 172);
  for (std::size_t i = 0; i < down.size(); i += 97) REQUIRE(down[i] == pagedserve::kernels::synthetic_value(fill, i));
  std::filesystem::remove_all(dir);
}
