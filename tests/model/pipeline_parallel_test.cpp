// How pipeline parallelism splits a model's layers over stages and a step's
// batch into micro-batches (model/pipeline_parallel.hpp).

#include <catch2/catch.hpp>

#include "model/pipeline_parallel.hpp"

using namespace pagedserve;

namespace {

model::ModelConfig five_layers() {
  model::ModelConfig c;
  c.num_layers = 5;
  return c;
}

// Sequences with `new_tokens[s]` new tokens after `cached[s]` cached ones,
// in blocks of 4 numbered from 10 per sequence; the last token of each samples.
kernels::BatchMetadata batch_of(const std::vector<int>& new_tokens, const std::vector<int>& cached) {
  kernels::BatchMetadata m;
  m.max_blocks_per_seq = 8;
  m.query_start.push_back(0);
  for (std::size_t s = 0; s < new_tokens.size(); ++s) {
    const int context = cached[s] + new_tokens[s];
    for (int i = 0; i < new_tokens[s]; ++i) {
      const int pos = cached[s] + i;
      const int block = 10 * static_cast<int>(s + 1) + pos / 4;
      m.token_ids.push_back(100 + static_cast<int>(s));
      m.positions.push_back(pos);
      m.slot_mapping.push_back(static_cast<std::int64_t>(block) * 4 + pos % 4);
    }
    m.query_start.push_back(m.num_tokens());
    m.context_lens.push_back(context);
    for (int b = 0; b < m.max_blocks_per_seq; ++b) m.block_tables.push_back(10 * static_cast<int>(s + 1) + b);
    m.logits_rows.push_back(m.num_tokens() - 1);
  }
  return m;
}

}  // namespace

TEST_CASE("stages hold contiguous layers, the first ones one more when they do not divide", "[pipeline_parallel]") {
  const auto c = five_layers();
  CHECK(model::stage_layers(c, 0, 2).first == 0);
  CHECK(model::stage_layers(c, 0, 2).count == 3);
  CHECK(model::stage_layers(c, 1, 2).first == 3);
  CHECK(model::stage_layers(c, 1, 2).count == 2);
  for (int s = 0; s < 5; ++s) {
    CHECK(model::stage_layers(c, s, 5).first == s);
    CHECK(model::stage_layers(c, s, 5).count == 1);
  }
  CHECK(model::pipeline_parallel_refusal(c, 5).empty());
  CHECK(model::pipeline_parallel_refusal(c, 6) == "--pipeline-parallel-size 6 exceeds the model's 5 layers: each stage needs at least one");
  CHECK_THROWS_WITH(model::stage_layers(c, 0, 6), Catch::Contains("exceeds the model's 5 layers"));
}

TEST_CASE("micro-batches are whole sequences that put the step back together", "[pipeline_parallel]") {
  const auto step = batch_of({7, 1, 1, 5, 1}, {0, 9, 3, 2, 12});
  REQUIRE(step.validate(4, 100).empty());
  for (int parts : {1, 2, 3, 5, 9}) {
    INFO(parts << " parts");
    const auto micro = model::split_micro_batches(step, parts);
    CHECK(static_cast<int>(micro.size()) == std::min(parts, 5));
    std::vector<std::int32_t> tokens, positions, logits_rows;
    std::vector<std::int64_t> slots;
    int token_base = 0;
    for (const auto& mb : micro) {
      CHECK(mb.meta.validate(4, 100).empty());
      CHECK(mb.meta.num_seqs() >= 1);
      CHECK(mb.first_logit == static_cast<int>(logits_rows.size()));
      tokens.insert(tokens.end(), mb.meta.token_ids.begin(), mb.meta.token_ids.end());
      positions.insert(positions.end(), mb.meta.positions.begin(), mb.meta.positions.end());
      slots.insert(slots.end(), mb.meta.slot_mapping.begin(), mb.meta.slot_mapping.end());
      for (auto r : mb.meta.logits_rows) logits_rows.push_back(r + token_base);
      token_base += mb.meta.num_tokens();
    }
    CHECK(tokens == step.token_ids);
    CHECK(positions == step.positions);
    CHECK(slots == step.slot_mapping);
    CHECK(logits_rows == step.logits_rows);
  }
}

TEST_CASE("micro-batches have about as many tokens each", "[pipeline_parallel]") {
  const auto micro = model::split_micro_batches(batch_of({8, 1, 1, 1, 1, 1, 1, 1, 1}, std::vector<int>(9, 4)), 2);
  REQUIRE(micro.size() == 2);
  CHECK(micro[0].meta.num_tokens() == 8);  // the long chunk alone
  CHECK(micro[1].meta.num_tokens() == 8);
}

TEST_CASE("a step whose logits rows are out of token order stays one micro-batch", "[pipeline_parallel]") {
  auto step = batch_of({2, 1, 1}, {0, 5, 5});
  std::swap(step.logits_rows[0], step.logits_rows[2]);
  CHECK(model::split_micro_batches(step, 3).size() == 1);
}
