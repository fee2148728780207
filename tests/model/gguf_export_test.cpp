// Export to GGUF, read back: llama.cpp's tensor names, q/k rows in each
// architecture's rotary layout (checked against the test's own
// permutation, not the exporter's), Llama 3 rope_freqs against the
// double-precision reference frequencies, metadata, and the tokenizer.

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>

#include "gguf_reader.hpp"
#include "model/gguf_export.hpp"
#include "model/hf_loader.hpp"
#include "model/loader.hpp"
#include "reference_cases.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;

namespace {

struct Exported {
  testing::TinyCheckpoint ck;
  std::string dir;
  testing::GgufFile gguf;
  Exported(const testing::TinySpec& spec, const std::string& name)
      : ck(testing::make_tiny_checkpoint(spec)), dir(testing::temp_dir(name)), gguf(write(ck, dir)) {}
  ~Exported() { std::filesystem::remove_all(dir); }
  static std::string write(const testing::TinyCheckpoint& ck, const std::string& dir) {
    testing::write_tiny_hf(ck, dir);
    auto hf = model::load_hf_model(dir);
    model::export_gguf(hf.config, hf.weights, model::placeholder_vocab(hf.config.vocab_size), dir + "/m.gguf");
    return dir + "/m.gguf";
  }
  std::vector<float> hf(const std::string& name) const { return ck.at(name); }
};

// Hugging Face (rotate-halves) rows of a GGUF "llama" q/k matrix (adjacent pairs).
std::vector<float> to_halves(const std::vector<float>& gguf_rows, std::int64_t rows, std::int64_t cols, int heads, int hs) {
  model::HostTensor t;
  t.data = gguf_rows.data();
  t.rows = rows;
  t.cols = cols;
  return testing::permute_for_halves(t, heads, hs);
}

}  // namespace

TEST_CASE("a Llama checkpoint exports with llama.cpp's names, metadata and permuted q/k rows", "[gguf]") {
  testing::TinySpec spec;
  Exported e(spec, "gguf-llama");
  const auto& kv = e.gguf.kv;
  CHECK(kv.at("general.architecture").string() == "llama");
  CHECK(kv.at("llama.block_count").number() == spec.layers);
  CHECK(kv.at("llama.embedding_length").number() == spec.dim);
  CHECK(kv.at("llama.feed_forward_length").number() == spec.hidden);
  CHECK(kv.at("llama.context_length").number() == spec.max_positions);
  CHECK(kv.at("llama.attention.head_count").number() == spec.heads);
  CHECK(kv.at("llama.attention.head_count_kv").number() == spec.kv_heads);
  CHECK(kv.at("llama.attention.key_length").number() == spec.head_dim);
  CHECK(kv.at("llama.rope.dimension_count").number() == spec.head_dim);
  CHECK(kv.at("llama.rope.freq_base").number() == spec.rope_theta);
  CHECK(kv.at("llama.attention.layer_norm_rms_epsilon").number() == Approx(spec.norm_eps));
  CHECK(kv.at("tokenizer.ggml.tokens").strings.size() == static_cast<std::size_t>(spec.vocab));
  for (const char* name : {"token_embd.weight", "output_norm.weight", "output.weight", "blk.1.attn_norm.weight",
                           "blk.1.attn_v.weight", "blk.1.attn_output.weight", "blk.1.ffn_norm.weight",
                           "blk.1.ffn_gate.weight", "blk.1.ffn_up.weight", "blk.1.ffn_down.weight"})
    CHECK(e.gguf.tensors.count(name) == 1);
  CHECK(e.gguf.tensors.size() == 3 + 9 * static_cast<std::size_t>(spec.layers));
  CHECK(e.gguf.tensors.at("blk.0.attn_q.weight").ne == std::vector<std::uint64_t>{32, 32});
  CHECK(e.gguf.values("blk.0.ffn_down.weight") == e.hf("model.layers.0.mlp.down_proj.weight"));
  CHECK(e.gguf.values("output.weight") == e.hf("lm_head.weight"));
  const int q = spec.heads * spec.head_dim, k = spec.kv_heads * spec.head_dim;
  const auto gq = e.gguf.values("blk.1.attn_q.weight"), gk = e.gguf.values("blk.1.attn_k.weight");
  CHECK(gq != e.hf("model.layers.1.self_attn.q_proj.weight"));
  CHECK(to_halves(gq, q, spec.dim, spec.heads, spec.head_dim) == e.hf("model.layers.1.self_attn.q_proj.weight"));
  CHECK(to_halves(gk, k, spec.dim, spec.kv_heads, spec.head_dim) == e.hf("model.layers.1.self_attn.k_proj.weight"));
  CHECK(e.gguf.tensors.count("rope_freqs.weight") == 0);
}

TEST_CASE("Llama 3 rope scaling exports as rope_freqs, the divisor of each pair's frequency", "[gguf]") {
  auto spec = testing::tiny_llama3();
  spec.tied = true;
  Exported e(spec, "gguf-llama3");
  CHECK(e.gguf.tensors.count("output.weight") == 0);  // llama.cpp reuses token_embd
  const auto factors = e.gguf.values("rope_freqs.weight");
  REQUIRE(factors.size() == static_cast<std::size_t>(spec.head_dim / 2));
  for (int i = 0; i < spec.head_dim / 2; ++i) {
    const double plain = 1.0 / std::pow(spec.rope_theta, 2.0 * i / spec.head_dim);
    CHECK(factors[i] == Approx(plain / testing::reference_inv_freq(spec, i)).epsilon(1e-5));
  }
}

TEST_CASE("Qwen2 and Qwen3 export unpermuted, with their biases and q/k norms", "[gguf]") {
  Exported qwen2(testing::tiny_qwen2(), "gguf-qwen2");
  CHECK(qwen2.gguf.kv.at("general.architecture").string() == "qwen2");
  CHECK(qwen2.gguf.kv.at("qwen2.rope.freq_base").number() == 1000000.0);
  CHECK(qwen2.gguf.values("blk.0.attn_q.weight") == qwen2.hf("model.layers.0.self_attn.q_proj.weight"));
  CHECK(qwen2.gguf.values("blk.0.attn_k.bias") == qwen2.hf("model.layers.0.self_attn.k_proj.bias"));
  CHECK(qwen2.gguf.tensors.at("blk.0.attn_v.bias").type == 0);
  CHECK(qwen2.gguf.tensors.count("output.weight") == 0);
  Exported qwen3(testing::tiny_qwen3(), "gguf-qwen3");
  CHECK(qwen3.gguf.kv.at("general.architecture").string() == "qwen3");
  CHECK(qwen3.gguf.kv.at("qwen3.attention.key_length").number() == 16);
  CHECK(qwen3.gguf.values("blk.1.attn_k_norm.weight") == qwen3.hf("model.layers.1.self_attn.k_norm.weight"));
  CHECK(qwen3.gguf.values("blk.1.attn_k.weight") == qwen3.hf("model.layers.1.self_attn.k_proj.weight"));
  CHECK(qwen3.gguf.tensors.count("blk.1.attn_q.bias") == 0);
}

TEST_CASE("a sliding window shorter than the context has no GGUF form and is refused", "[gguf]") {
  auto c = model::preset_config("stories260K");
  c.architecture = "MistralForCausalLM";
  c.sliding_window = 64;
  CHECK_THROWS_WITH(model::gguf_architecture(c), Catch::Contains("sliding attention window"));
  c.sliding_window = c.max_seq_len;  // pagedserve caps the context at the window
  CHECK(model::gguf_architecture(c) == "llama");
  c.architecture = "GPT2LMHeadModel";
  CHECK_THROWS_WITH(model::gguf_architecture(c), Catch::Contains("GPT2LMHeadModel has no GGUF export"));
}

TEST_CASE("stories260K exports unpermuted with its SentencePiece vocabulary", "[gguf]") {
  const std::string dir = testing::stories260k_dir();
  auto m = model::load_model(dir);
  auto vocab = model::vocab_from_llama2c(model::tokenizer_file(dir), m.config.vocab_size);
  const auto out = testing::temp_dir("gguf-stories") + "/m.gguf";
  model::export_gguf(m.config, m.weights, vocab, out, model::GgufTensorType::f16);
  testing::GgufFile f(out);
  CHECK(f.kv.at("tokenizer.ggml.model").string() == "llama");
  CHECK(f.kv.at("general.file_type").number() == 1);
  const auto& tokens = f.kv.at("tokenizer.ggml.tokens").strings;
  REQUIRE(tokens.size() == 512);
  CHECK(tokens[0] == "<unk>");
  CHECK(tokens[1] == "<s>");
  CHECK(tokens[2] == "</s>");
  CHECK(tokens[3] == "<0x00>");
  CHECK(std::find(tokens.begin(), tokens.end(), "\u2581the") != tokens.end());
  const auto& types = f.kv.at("tokenizer.ggml.token_type").numbers;
  CHECK(types[0] == 2);
  CHECK(types[1] == 3);
  CHECK(types[3 + 0x41] == 6);
  CHECK(types[400] == 1);
  CHECK(f.tensors.at("blk.0.attn_q.weight").type == 1);
  CHECK(f.tensors.at("blk.0.attn_norm.weight").type == 0);  // vectors stay f32
  // llama2.c rotates adjacent pairs already, as llama.cpp's "llama" does.
  const auto& wq = m.weights.layers[0].wq;
  const auto* src = static_cast<const float*>(wq.data);
  const auto q = f.values("blk.0.attn_q.weight");
  for (std::size_t i = 0; i < q.size(); ++i) REQUIRE(q[i] == kernels::half_to_float(kernels::float_to_half(src[i])));
  std::filesystem::remove_all(std::filesystem::path(out).parent_path());
}
