// The forward pass gives the same logits however a prompt is split into
// steps (one chunk, several chunks, token by token), and whichever blocks
// hold its K/V.

#include "model/llama.hpp"

#include <catch2/catch.hpp>
#include <numeric>

#include "kernels/backend.hpp"
#include "model/loader.hpp"
#include "reference_cases.hpp"

using namespace pagedserve;

namespace {

// Runs `prompt` through the model in chunks of `chunk` tokens, with blocks
// assigned from `first_block` upwards in reverse order, and returns the
// logits of the last token.
std::vector<float> last_logits(model::LlamaModel& m, const std::vector<std::int32_t>& prompt, int chunk, int block_size) {
  const int n = static_cast<int>(prompt.size());
  const int num_blocks = (n + block_size - 1) / block_size;
  auto cache = m.backend().allocate_kv_cache(m.kv_spec(num_blocks, block_size, kernels::DType::f32));
  std::vector<std::int32_t> table(num_blocks);
  std::iota(table.rbegin(), table.rend(), 0);  // scattered: logical 0 -> last physical block
  std::vector<float> logits;
  for (int start = 0; start < n; start += chunk) {
    const int end = std::min(n, start + chunk);
    kernels::BatchMetadata meta;
    for (int p = start; p < end; ++p) {
      meta.token_ids.push_back(prompt[p]);
      meta.positions.push_back(p);
      meta.slot_mapping.push_back(static_cast<std::int64_t>(table[p / block_size]) * block_size + p % block_size);
    }
    meta.query_start = {0, end - start};
    meta.context_lens = {end};
    meta.block_tables = table;
    meta.max_blocks_per_seq = num_blocks;
    meta.logits_rows = {end - start - 1};
    REQUIRE(meta.validate(block_size, num_blocks).empty());
    m.forward(meta, cache, logits);
  }
  return logits;
}

}  // namespace

TEST_CASE("chunked prefill, token-by-token and one-shot prefill agree", "[llama]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel m(loaded.config, loaded.weights, *backend);
  auto prompt = loaded.tokenizer->encode("Lily and Ben went to the park. They saw a big dog.", true);
  REQUIRE(prompt.size() > 10);
  auto whole = last_logits(m, prompt, static_cast<int>(prompt.size()), 16);
  for (int chunk : {1, 3, 7}) {
    for (int bs : {1, 4, 16}) {
      auto split = last_logits(m, prompt, chunk, bs);
      REQUIRE(split.size() == whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) REQUIRE(split[i] == Approx(whole[i]).margin(1e-4));
    }
  }
}

TEST_CASE("a model refuses weights that do not match its config", "[llama]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  auto backend = kernels::make_backend("cpu");
  loaded.weights.layers.pop_back();
  CHECK_THROWS_WITH(model::LlamaModel(loaded.config, loaded.weights, *backend), Catch::Contains("layers"));
}
