// The KV planner profiles the largest step the engine may run: every token a
// step may hold (not capped at one sequence's length), the longest contexts
// (the attention's split-K workspace) and every row that may sample (the
// logits temporaries).

#include "engine/kv_planner.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve;

TEST_CASE("the profiling step holds max_num_batched_tokens tokens, full-length contexts and max_num_seqs rows",
          "[engine][planner]") {
  auto m = engine::profiling_batch(8192, 4096, 256, 16);
  CHECK(m.num_tokens() == 8192);  // two sequences of 4,096: not one capped at the model's length
  CHECK(m.num_seqs() == 2);
  CHECK(m.max_context_len() == 4096);
  CHECK(m.logits_rows.size() == 256);
  CHECK(m.validate(16, 1).empty());
  for (auto slot : m.slot_mapping) CHECK(slot == -1);

  auto ragged = engine::profiling_batch(5000, 2048, 3, 32);
  CHECK(ragged.num_tokens() == 5000);
  CHECK(ragged.context_lens == std::vector<std::int32_t>{2048, 2048, 904});
  CHECK(ragged.validate(32, 1).empty());

  auto one = engine::profiling_batch(1, 4096, 256, 16);  // rows may repeat a token
  CHECK(one.num_tokens() == 1);
  CHECK(one.logits_rows.size() == 256);
  CHECK(one.validate(16, 1).empty());
}
