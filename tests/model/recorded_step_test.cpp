// The shape of recorded decode steps: which batches qualify, the sizes they
// are padded to, and that padding leaves the real rows' logits unchanged
// (the CPU backend runs the padded batch; BLAS may sum a GEMM of 8 rows in
// another order than one of 5, so equal to rounding).

#include "model/recorded_step.hpp"

#include <catch2/catch.hpp>

#include "kernels/cpu/cpu_backend.hpp"
#include "model/llama.hpp"
#include "model/loader.hpp"
#include "reference_cases.hpp"

using namespace pagedserve;

namespace {

// n decoding sequences with contexts 3, 5, 7, ...; tables of `width` blocks.
kernels::BatchMetadata decode_batch(int n, int block_size) {
  kernels::BatchMetadata m;
  m.query_start.push_back(0);
  int next_block = 0;
  for (int s = 0; s < n; ++s) m.max_blocks_per_seq = std::max(m.max_blocks_per_seq, (3 + 2 * s + block_size - 1) / block_size);
  for (int s = 0; s < n; ++s) {
    const int ctx = 3 + 2 * s, blocks = (ctx + block_size - 1) / block_size;
    m.token_ids.push_back(5 + s);
    m.positions.push_back(ctx - 1);
    m.slot_mapping.push_back(static_cast<std::int64_t>(next_block + blocks - 1) * block_size + (ctx - 1) % block_size);
    m.query_start.push_back(s + 1);
    m.context_lens.push_back(ctx);
    m.logits_rows.push_back(s);
    for (int b = 0; b < m.max_blocks_per_seq; ++b) m.block_tables.push_back(b < blocks ? next_block + b : 0);
    next_block += blocks;
  }
  return m;
}

}  // namespace

TEST_CASE("plain decode batches qualify for recording; others do not", "[model][recorded]") {
  auto m = decode_batch(5, 4);
  CHECK(model::is_plain_decode(m));
  auto chunk = m;
  chunk.token_ids.push_back(1);  // a sequence with two new tokens
  chunk.positions.push_back(9);
  chunk.slot_mapping.push_back(-1);
  chunk.query_start.back() = 6;
  CHECK_FALSE(model::is_plain_decode(chunk));
  auto beam = m;
  beam.logits_rows.pop_back();  // a row that does not sample
  CHECK_FALSE(model::is_plain_decode(beam));
  CHECK_FALSE(model::is_plain_decode(kernels::BatchMetadata{}));
  CHECK(model::recorded_batch_size(1) == 1);
  CHECK(model::recorded_batch_size(5) == 8);
  CHECK(model::recorded_batch_size(256) == 256);
}

TEST_CASE("a padded decode batch is valid and keeps every real row", "[model][recorded]") {
  auto m = decode_batch(5, 4);
  auto p = model::pad_decode_batch(m, 8, 16);
  CHECK(p.validate(4, 64).empty());
  CHECK(p.num_seqs() == 8);
  CHECK(p.max_blocks_per_seq == 16);
  CHECK(model::is_plain_decode(p));
  for (int s = 0; s < 5; ++s) {
    CHECK(p.token_ids[s] == m.token_ids[s]);
    CHECK(p.slot_mapping[s] == m.slot_mapping[s]);
    for (int b = 0; b < m.max_blocks_per_seq; ++b) CHECK(p.block_tables[s * 16 + b] == m.block_tables[s * m.max_blocks_per_seq + b]);
  }
  for (int s = 5; s < 8; ++s) CHECK(p.slot_mapping[s] == -1);  // padding writes no K/V
  CHECK_THROWS(model::pad_decode_batch(m, 4, 16));
}

TEST_CASE("padding a decode batch leaves the real rows' logits as they were", "[model][recorded]") {
  auto loaded = model::load_model(testing::stories260k_dir());
  auto backend = kernels::make_cpu_backend();
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  const int bs = 4;
  auto m = decode_batch(5, bs);
  std::vector<float> want, got;
  auto cache_a = backend->allocate_kv_cache(llama.kv_spec(64, bs, kernels::DType::f32));
  auto cache_b = backend->allocate_kv_cache(llama.kv_spec(64, bs, kernels::DType::f32));
  llama.forward(m, cache_a, want);
  llama.forward(model::pad_decode_batch(m, 8, 16), cache_b, got);
  const std::size_t vocab = static_cast<std::size_t>(loaded.config.vocab_size);
  REQUIRE(got.size() == 8 * vocab);
  for (std::size_t i = 0; i < 5 * vocab; ++i) REQUIRE(got[i] == Approx(want[i]).epsilon(1e-5).margin(1e-5));
}
