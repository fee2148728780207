#include "model/hf_loader.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "engine/generator.hpp"
#include "hf_export.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "reference_cases.hpp"

using namespace pagedserve;

namespace {

const std::string kCheckpoint = std::string(testing::stories260k_dir()) + "/stories260K.bin";
const std::string kTokenizer = std::string(testing::stories260k_dir()) + "/tok512.bin";

std::vector<std::vector<std::int32_t>> greedy_outputs(const std::string& model_dir) {
  model::LoadOptions opts;
  opts.tokenizer_path = kTokenizer;
  auto loaded = model::load_model(model_dir, opts);
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  engine::GeneratorConfig config;
  config.blocks.num_gpu_blocks = 256;
  engine::Generator gen(llama, loaded.tokenizer.get(), config);
  std::vector<engine::GenerationRequest> requests;
  for (const auto& c : testing::load_reference_cases()) {
    engine::GenerationRequest r;
    r.prompt_ids = c.prompt_ids;
    r.params.temperature = 0;
    r.params.max_tokens = c.max_tokens();
    requests.push_back(r);
  }
  std::vector<std::vector<std::int32_t>> out;
  for (auto& res : gen.generate(requests)) out.push_back(res.output_ids);
  return out;
}

}  // namespace

TEST_CASE("stories260K exported to Hugging Face format gives the llama2.c tokens", "[hf_loader]") {
  auto cases = testing::load_reference_cases();
  for (int shards : {1, 3}) {
    auto dir = testing::temp_dir("hf" + std::to_string(shards));
    testing::export_hf(kCheckpoint, dir, "F32", shards);
    auto hf = model::load_hf_model(dir);
    CHECK(hf.config.rope_layout == kernels::RopeLayout::rotate_halves);
    CHECK(hf.config.num_kv_heads == 4);
    CHECK(hf.config.eos_ids == std::vector<std::int32_t>{1, 2});
    auto out = greedy_outputs(dir);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO(shards << " shard(s), case " << i);
      CHECK(out[i] == cases[i].output_ids);
    }
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("f16 and bf16 checkpoints load and stay close to the fp32 story", "[hf_loader]") {
  auto cases = testing::load_reference_cases();
  for (std::string dtype : {"F16", "BF16"}) {
    auto dir = testing::temp_dir("hf" + dtype);
    testing::export_hf(kCheckpoint, dir, dtype, 1);
    auto out = greedy_outputs(dir);
    // Rounded weights change late tokens; the start of the story survives.
    INFO(dtype);
    CHECK(std::equal(out[1].begin(), out[1].begin() + 10, cases[1].output_ids.begin()));
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("broken Hugging Face directories are refused with the reason", "[hf_loader]") {
  auto dir = testing::temp_dir("hfbad");
  testing::export_hf(kCheckpoint, dir, "F32", 1);
  std::ofstream(dir + "/config.json") << "{\"hidden_size\": 64, ";  // truncated JSON
  CHECK_THROWS_WITH(model::load_hf_model(dir), Catch::Contains("not a JSON object"));
  const std::string llama = "{\"architectures\":[\"LlamaForCausalLM\"],";
  std::ofstream(dir + "/config.json") << llama << "\"hidden_size\": \"64\"}";
  CHECK_THROWS_WITH(model::load_hf_model(dir), Catch::Contains("hidden_size is not an integer"));
  std::ofstream(dir + "/config.json") << llama << "\"hidden_size\": 64}";
  CHECK_THROWS_WITH(model::load_hf_model(dir), Catch::Contains("lacks intermediate_size"));
  std::ofstream(dir + "/config.json")
      << llama << "\"hidden_size\":64,\"intermediate_size\":999,\"num_hidden_layers\":5,\"num_attention_heads\":8,"
         "\"num_key_value_heads\":4,\"vocab_size\":512}";
  CHECK_THROWS_WITH(model::load_hf_model(dir), Catch::Contains("the config implies"));
  std::filesystem::remove(dir + "/model.safetensors");
  CHECK_THROWS_WITH(model::load_hf_model(dir), Catch::Contains("neither model.safetensors"));
  CHECK_THROWS_WITH(model::load_model(dir), Catch::Contains("neither model.safetensors"));
  std::filesystem::remove_all(dir);
}
