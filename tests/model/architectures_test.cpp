// Each supported architecture, from a tiny random checkpoint written as a
// Hugging Face directory, against a plain double-precision forward pass of
// the same weights; and every kind of checkpoint that is refused, refused by
// name.

#include <catch2/catch.hpp>
#include <filesystem>
#include <numeric>

#include "engine/generator.hpp"
#include "kernels/backend.hpp"
#include "model/hf_loader.hpp"
#include "model/llama.hpp"
#include "stepwise_logits.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;

namespace {

struct TinyDir {
  testing::TinyCheckpoint ck;
  std::string dir;
  TinyDir(const testing::TinySpec& spec, const std::string& name)
      : ck(testing::make_tiny_checkpoint(spec)), dir(testing::temp_dir(name)) {
    testing::write_tiny_hf(ck, dir);
  }
  ~TinyDir() { std::filesystem::remove_all(dir); }
};

void check_against_reference(const testing::TinySpec& spec, const std::string& name) {
  TinyDir tiny(spec, name);
  auto hf = model::load_hf_model(tiny.dir);
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel m(hf.config, hf.weights, *backend);
  const auto tokens = testing::random_prompt(40, spec.vocab, 3);
  for (int block_size : {1, 16}) {
    const auto got = testing::stepwise_logits(m, tokens, 23, block_size);
    testing::ReferenceForward fresh(tiny.ck);
    double worst = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      const auto want = fresh.step(tokens[t]);
      for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[t][i] - want[i]));
    }
    INFO(spec.architecture << " block size " << block_size << ": largest logit difference " << worst);
    CHECK(worst < 2e-4);
  }
}

}  // namespace

TEST_CASE("Llama 3 with llama3 rope scaling matches the double-precision reference", "[architectures]") {
  auto spec = testing::tiny_llama3();
  TinyDir tiny(spec, "llama3-config");
  auto c = model::load_hf_model(tiny.dir).config;
  CHECK(c.architecture == "LlamaForCausalLM");
  CHECK(c.rope_scaling.factor == 8.0f);
  CHECK(c.rope_scaling.original_max_positions == 64.0f);
  check_against_reference(spec, "llama3");
  spec.tied = true;
  check_against_reference(spec, "llama3-tied");
}

TEST_CASE("the llama3 frequency bands all occur in the reference model", "[architectures]") {
  // Guards the test above: with head_dim 16 some pairs keep their frequency,
  // some are divided by the factor and some are interpolated.
  const auto spec = testing::tiny_llama3();
  int kept = 0, divided = 0, between = 0;
  for (int i = 0; i < spec.head_dim / 2; ++i) {
    const double plain = 1.0 / std::pow(spec.rope_theta, 2.0 * i / spec.head_dim);
    const double scaled = testing::reference_inv_freq(spec, i);
    if (scaled == plain) ++kept;
    else if (std::abs(scaled - plain / spec.factor) < 1e-15) ++divided;
    else ++between;
  }
  CHECK(kept > 0);
  CHECK(divided > 0);
  CHECK(between > 0);
}

TEST_CASE("Qwen2 with q/k/v biases matches the double-precision reference", "[architectures]") {
  check_against_reference(testing::tiny_qwen2(), "qwen2");
}

TEST_CASE("Qwen3 with q/k norms and an explicit head_dim matches the double-precision reference", "[architectures]") {
  auto spec = testing::tiny_qwen3();
  TinyDir tiny(spec, "qwen3-config");
  auto c = model::load_hf_model(tiny.dir).config;
  CHECK(c.head_size == 16);
  CHECK(c.qk_norm);
  check_against_reference(spec, "qwen3");
}

TEST_CASE("Mistral matches the reference inside its window, and its context is capped at the window",
          "[architectures]") {
  auto spec = testing::tiny_mistral();
  TinyDir tiny(spec, "mistral-config");
  auto c = model::load_hf_model(tiny.dir).config;
  CHECK(c.sliding_window == 48);
  CHECK(c.max_seq_len == 48);
  check_against_reference(spec, "mistral");
  // A prompt longer than the window is refused at admission, saying why.
  auto hf = model::load_hf_model(tiny.dir);
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel m(hf.config, hf.weights, *backend);
  engine::GeneratorConfig config;
  config.blocks.num_gpu_blocks = 64;
  engine::Generator gen(m, nullptr, config);
  engine::GenerationRequest r;
  r.prompt_ids = testing::random_prompt(49, spec.vocab, 1);
  r.params.max_tokens = 1;
  CHECK_THROWS_WITH(gen.generate({r}), Catch::Contains("more than the model's 48") &&
                                           Catch::Contains("sliding attention window"));
  r.prompt_ids.resize(40);
  r.params.temperature = 0;
  r.params.max_tokens = 30;
  r.params.ignore_eos = true;
  const auto within = gen.generate({r}).front();
  // 48 positions: the 9th new token is sampled at position 47 and never
  // attended to, so no query sees more than the window.
  CHECK(within.output_ids.size() == 9);
  CHECK(within.finish_reason == "length");
  spec.sliding_window = 0;  // "sliding_window": null: the whole context
  TinyDir unwindowed(spec, "mistral-null");
  CHECK(model::load_hf_model(unwindowed.dir).config.max_seq_len == spec.max_positions);
}

namespace {

std::string load_error(const testing::TinyCheckpoint& ck, const std::string& config_json) {
  auto dir = testing::temp_dir("refused");
  testing::write_tiny_hf(ck, dir);
  std::ofstream(dir + "/config.json") << config_json;
  std::string what;
  try {
    model::load_hf_model(dir);
  } catch (const std::exception& e) {
    what = e.what();
  }
  std::filesystem::remove_all(dir);
  return what;
}

std::string load_error(const testing::TinySpec& spec) {
  return load_error(testing::make_tiny_checkpoint(spec), testing::tiny_config_json(spec));
}

const char* kSupported = "supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";

}  // namespace

TEST_CASE("unsupported architectures are refused by name with the supported list", "[architectures]") {
  for (std::string arch : {"MixtralForCausalLM", "Qwen3MoeForCausalLM", "Qwen2MoeForCausalLM"}) {
    auto spec = testing::TinySpec{};
    spec.architecture = arch;
    const auto what = load_error(spec);
    INFO(what);
    CHECK_THAT(what, Catch::Contains("architecture " + arch + " (mixture of experts) is not supported") &&
                         Catch::Contains(kSupported));
  }
  auto spec = testing::TinySpec{};
  spec.architecture = "GPT2LMHeadModel";
  CHECK_THAT(load_error(spec), Catch::Contains("architecture GPT2LMHeadModel is not supported") &&
                                   Catch::Contains(kSupported));
  spec.architecture = "DeepseekV3ForCausalLM";
  spec.extra_config = ",\"num_experts\":8";
  CHECK_THAT(load_error(spec), Catch::Contains("DeepseekV3ForCausalLM (mixture of experts)"));
  auto json = testing::tiny_config_json(testing::TinySpec{});
  const std::string named = "\"architectures\":[\"LlamaForCausalLM\"],";
  json.replace(json.find(named), named.size(), "");
  CHECK_THAT(load_error(testing::make_tiny_checkpoint(testing::TinySpec{}), json),
             Catch::Contains("names no architecture") && Catch::Contains(kSupported));
}

TEST_CASE("unknown rope scaling, quantization and other variants are refused by name", "[architectures]") {
  auto with = [](std::string extra) {
    auto spec = testing::TinySpec{};
    spec.extra_config = std::move(extra);
    return load_error(spec);
  };
  auto rope = [](const std::string& scaling) {
    auto spec = testing::TinySpec{};
    auto json = testing::tiny_config_json(spec);
    json.replace(json.find("\"rope_scaling\":null"), 19, "\"rope_scaling\":" + scaling);
    return load_error(testing::make_tiny_checkpoint(spec), json);
  };
  CHECK_THAT(rope("{\"rope_type\":\"yarn\",\"factor\":4.0}"),
             Catch::Contains("rope_scaling type \"yarn\" is not supported; supported: llama3"));
  CHECK_THAT(rope("{\"type\":\"linear\",\"factor\":2.0}"), Catch::Contains("rope_scaling type \"linear\""));
  CHECK_THAT(rope("{\"type\":\"dynamic\",\"factor\":2.0}"), Catch::Contains("rope_scaling type \"dynamic\""));
  CHECK_THAT(rope("{\"rope_type\":\"llama3\",\"factor\":8.0}"), Catch::Contains("needs a number low_freq_factor"));
  CHECK(rope("{\"rope_type\":\"default\"}").empty());
  CHECK_THAT(with(",\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4}"),
             Catch::Contains("quantized checkpoints are not supported (quantization_config, method gptq)"));
  auto gelu = testing::TinySpec{};
  gelu.hidden_act = "gelu";
  CHECK_THAT(load_error(gelu), Catch::Contains("hidden_act \"gelu\" is not supported"));
  CHECK_THAT(with(",\"mlp_bias\":true"), Catch::Contains("mlp_bias"));
  CHECK_THAT(with(",\"attention_bias\":true"), Catch::Contains("attention_bias"));
  auto qwen = testing::tiny_qwen2();
  auto json = testing::tiny_config_json(qwen);
  json.replace(json.find("\"use_sliding_window\":false"), 26, "\"use_sliding_window\":true");
  CHECK_THAT(load_error(testing::make_tiny_checkpoint(qwen), json),
             Catch::Contains("use_sliding_window is not supported for Qwen2ForCausalLM"));
}

TEST_CASE("missing and left-over tensors are refused by name", "[architectures]") {
  // A Qwen2 config over a checkpoint without biases: missing.
  auto llama = testing::make_tiny_checkpoint(testing::TinySpec{});
  auto qwen2 = testing::tiny_qwen2();
  qwen2.tied = false;
  CHECK_THAT(load_error(llama, testing::tiny_config_json(qwen2)),
             Catch::Contains("lacks tensor model.layers.0.self_attn.q_proj.bias, which Qwen2ForCausalLM needs"));
  // A Llama config over a checkpoint with biases: left over.
  auto biased = testing::make_tiny_checkpoint(qwen2);
  auto plain = testing::TinySpec{};
  CHECK_THAT(load_error(biased, testing::tiny_config_json(plain)),
             Catch::Contains("holds 6 tensor(s) that LlamaForCausalLM does not use (model.layers.0.self_attn.k_proj.bias"));
  // Qwen3 needs its norms.
  auto qwen3 = testing::tiny_qwen3();
  auto no_norms = testing::make_tiny_checkpoint(qwen3);
  for (int l = 0; l < qwen3.layers; ++l)
    for (const char* n : {"q_norm", "k_norm"}) no_norms.tensors.erase("model.layers." + std::to_string(l) + ".self_attn." + n + ".weight");
  CHECK_THAT(load_error(no_norms, testing::tiny_config_json(qwen3)),
             Catch::Contains("lacks tensor model.layers.0.self_attn.q_norm.weight, which Qwen3ForCausalLM needs"));
  // Untied: lm_head must be there.
  auto untied = testing::TinySpec{};
  auto tied_ck = untied;
  tied_ck.tied = true;
  CHECK_THAT(load_error(testing::make_tiny_checkpoint(tied_ck), testing::tiny_config_json(untied)),
             Catch::Contains("lacks tensor lm_head.weight"));
  // Tied with a stored copy of lm_head: Hugging Face ignores the copy, so do we.
  CHECK(load_error(testing::make_tiny_checkpoint(untied), testing::tiny_config_json(tied_ck)).empty());
}
