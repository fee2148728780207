#include "model/llama2c_loader.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "model/loader.hpp"
#include "reference_cases.hpp"

using namespace pagedserve;

namespace {

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string write_temp(const std::vector<char>& bytes, const std::string& name) {
  std::string path = "/tmp/pagedserve-test-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

const std::string kCheckpoint = std::string(testing::stories260k_dir()) + "/stories260K.bin";

}  // namespace

TEST_CASE("stories260K's header gives its documented shape", "[loader]") {
  auto ck = model::load_llama2c_checkpoint(kCheckpoint);
  const auto& c = ck.config;
  CHECK(c.dim == 64);
  CHECK(c.hidden_dim == 172);
  CHECK(c.num_layers == 5);
  CHECK(c.num_heads == 8);
  CHECK(c.num_kv_heads == 4);
  CHECK(c.head_size == 8);
  CHECK(c.vocab_size == 512);
  CHECK(c.max_seq_len == 512);
  CHECK(c.tied_embeddings);
  CHECK(ck.weights.layers.size() == 5);
  CHECK(ck.weights.lm_head.data == ck.weights.token_embedding.data);
  CHECK(ck.weights.layers[4].w_down.rows == 64);
  CHECK(ck.weights.layers[4].w_down.cols == 172);
}

TEST_CASE("a truncated checkpoint is refused with the sizes", "[loader]") {
  auto bytes = read_all(kCheckpoint);
  bytes.resize(bytes.size() - 100);
  auto path = write_temp(bytes, "truncated.bin");
  CHECK_THROWS_WITH(model::load_llama2c_checkpoint(path), Catch::Contains("does not match its header"));
  std::remove(path.c_str());
}

TEST_CASE("a nonsensical header is refused", "[loader]") {
  auto bytes = read_all(kCheckpoint);
  std::int32_t heads = 7;  // 64 is not a multiple of 7
  std::memcpy(bytes.data() + 12, &heads, 4);
  auto path = write_temp(bytes, "badheader.bin");
  CHECK_THROWS_WITH(model::load_llama2c_checkpoint(path), Catch::Contains("n_heads"));
  std::remove(path.c_str());
  auto tiny = write_temp({'a', 'b'}, "tiny.bin");
  CHECK_THROWS_WITH(model::load_llama2c_checkpoint(tiny), Catch::Contains("too small"));
  std::remove(tiny.c_str());
}

TEST_CASE("load_model finds checkpoints and tokenizers, and says what is missing", "[loader]") {
  auto m = model::load_model(testing::stories260k_dir());
  CHECK(m.tokenizer);
  CHECK(m.config.name == "stories260K");
  CHECK_THROWS_WITH(model::load_model("/nonexistent"), Catch::Contains("does not exist"));
  auto dummy = model::load_model("dummy:stories15M");
  CHECK(dummy.config.vocab_size == 32000);
  CHECK_FALSE(dummy.tokenizer);
  CHECK_THROWS_WITH(model::load_model("dummy:nope"), Catch::Contains("unknown model preset"));
}
