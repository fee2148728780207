// The GGUF writer, read back by an independent reader: header, every kind
// of metadata, tensor infos, alignment and data in f32 and f16.

#include <catch2/catch.hpp>
#include <filesystem>

#include "gguf_reader.hpp"
#include "hf_export.hpp"
#include "model/gguf_writer.hpp"

using namespace pagedserve;

TEST_CASE("a GGUF file reads back with its metadata, shapes and data", "[gguf]") {
  const auto dir = testing::temp_dir("gguf-writer");
  model::GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 3);
  w.add_f32("llama.rope.freq_base", 500000.0f);
  w.add_bool("tokenizer.ggml.add_bos_token", false);
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "\u2581a", ""});
  w.add_f32s("tokenizer.ggml.scores", {0.0f, -1.5f, 2.0f});
  w.add_i32s("tokenizer.ggml.token_type", {2, 1, 6});
  std::vector<float> matrix(3 * 5), vector = {1.0f, -2.0f, 0.5f};
  for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = 0.25f * static_cast<float>(i) - 1.0f;
  w.add_tensor("blk.0.attn_q.weight", 3, 5, model::GgufTensorType::f32, [&] { return matrix; });
  w.add_tensor("blk.0.attn_norm.weight", 1, 3, model::GgufTensorType::f32, [&] { return vector; });
  w.add_tensor("token_embd.weight", 3, 5, model::GgufTensorType::f16, [&] { return matrix; });
  w.write(dir + "/m.gguf");

  testing::GgufFile f(dir + "/m.gguf");
  CHECK(f.version == 3);
  CHECK(f.kv.size() == 7);
  CHECK(f.kv.at("general.architecture").string() == "llama");
  CHECK(f.kv.at("llama.block_count").type == 4);
  CHECK(f.kv.at("llama.block_count").number() == 3);
  CHECK(f.kv.at("llama.rope.freq_base").number() == 500000.0);
  CHECK(f.kv.at("tokenizer.ggml.add_bos_token").type == 7);
  CHECK(f.kv.at("tokenizer.ggml.add_bos_token").number() == 0);
  CHECK(f.kv.at("tokenizer.ggml.tokens").strings == std::vector<std::string>{"<unk>", "\u2581a", ""});
  CHECK(f.kv.at("tokenizer.ggml.scores").numbers == std::vector<double>{0.0, -1.5, 2.0});
  CHECK(f.kv.at("tokenizer.ggml.token_type").type == 5);
  CHECK(f.kv.at("tokenizer.ggml.token_type").numbers == std::vector<double>{2, 1, 6});

  CHECK(f.names == std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.attn_norm.weight", "token_embd.weight"});
  CHECK(f.tensors.at("blk.0.attn_q.weight").ne == std::vector<std::uint64_t>{5, 3});  // innermost first
  CHECK(f.tensors.at("blk.0.attn_norm.weight").ne == std::vector<std::uint64_t>{3});
  CHECK(f.tensors.at("token_embd.weight").type == 1);
  CHECK(f.data_start % 32 == 0);
  for (const auto& [name, t] : f.tensors) CHECK(t.offset % 32 == 0);
  CHECK(f.values("blk.0.attn_q.weight") == matrix);
  CHECK(f.values("blk.0.attn_norm.weight") == vector);
  CHECK(f.values("token_embd.weight") == matrix);  // these values are exact in f16
  CHECK(f.size() == f.data_start + f.tensors.at("token_embd.weight").offset + 32);  // 30 bytes, padded
  std::filesystem::remove_all(dir);
}

TEST_CASE("a tensor producer returning the wrong number of values is refused by name", "[gguf]") {
  const auto dir = testing::temp_dir("gguf-wrong");
  model::GgufWriter w;
  w.add_tensor("output.weight", 2, 2, model::GgufTensorType::f32, [] { return std::vector<float>(3); });
  CHECK_THROWS_WITH(w.write(dir + "/m.gguf"), Catch::Contains("output.weight: 3 values for shape [2, 2]"));
  CHECK_THROWS_WITH(w.write(dir + "/missing/m.gguf"), Catch::Contains("cannot write"));
  std::filesystem::remove_all(dir);
}
