// A model split over tensor-parallel ranks (model/tensor_parallel.hpp), the
// ranks as threads meeting in an in-process group: every rank ends each
// step with the same logits, and they equal the unsplit model's up to the
// order of the partial sums.

#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "kernels/collective.hpp"
#include "model/hf_loader.hpp"
#include "model/llama.hpp"
#include "model/tensor_parallel.hpp"
#include "stepwise_logits.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;

namespace {

using Logits = std::vector<std::vector<float>>;

// Each rank's logits for every position of `tokens`.
std::vector<Logits> split_logits(const model::ModelConfig& config, const model::ModelWeights& weights, int world, const std::vector<std::int32_t>& tokens,
                                 int block_size) {
  auto group = kernels::make_in_process_group(world);
  std::vector<Logits> out(world);
  std::vector<std::thread> ranks;
  for (int r = 0; r < world; ++r)
    ranks.emplace_back([&, r] {
      auto backend = kernels::make_backend("cpu");
      model::LlamaModel shard(model::shard_config(config, r, world), model::shard_weights(config, weights, r, world), *backend);
      shard.join_tensor_parallel_group(group->member(r));
      out[r] = testing::stepwise_logits(shard, tokens, 23, block_size);
    });
  for (auto& t : ranks) t.join();
  return out;
}

double largest_difference(const Logits& a, const Logits& b) {
  double worst = 0;
  for (std::size_t t = 0; t < a.size(); ++t)
    for (std::size_t i = 0; i < a[t].size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(a[t][i] - b[t][i])));
  return worst;
}

testing::TinySpec four_heads(testing::TinySpec s) {
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 16;
  s.write_head_dim = true;
  return s;
}

void check_split(const testing::TinySpec& spec, const std::string& name) {
  const auto ck = testing::make_tiny_checkpoint(spec);
  const auto dir = testing::temp_dir(name);
  testing::write_tiny_hf(ck, dir);
  const auto loaded = model::load_hf_model(dir);
  std::filesystem::remove_all(dir);
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel whole(loaded.config, loaded.weights, *backend);
  const auto tokens = testing::random_prompt(40, spec.vocab, 5);
  for (int block_size : {1, 16}) {
    const auto want = testing::stepwise_logits(whole, tokens, 23, block_size);
    const auto ranks = split_logits(loaded.config, loaded.weights, 2, tokens, block_size);
    INFO(spec.architecture << " block size " << block_size);
    CHECK(ranks[0] == ranks[1]);  // the same bits: every rank samples alike
    const double worst = largest_difference(ranks[0], want);
    INFO("largest logit difference from one rank: " << worst);
    CHECK(worst < 1e-4);
  }
}

}  // namespace

TEST_CASE("tensor parallel 2 gives the logits of one rank: Llama 3, Qwen2, Qwen3 shapes", "[tensor_parallel]") {
  auto llama3 = four_heads(testing::tiny_llama3());
  check_split(llama3, "tp-llama3");
  check_split(four_heads(testing::tiny_qwen2()), "tp-qwen2");
  check_split(four_heads(testing::tiny_qwen3()), "tp-qwen3");
}

TEST_CASE("a split that does not divide is refused with the reason", "[tensor_parallel]") {
  model::ModelConfig c = model::preset_config("stories260K");  // 8 heads, 4 KV heads
  CHECK(model::tensor_parallel_refusal(c, 2).empty());
  CHECK(model::tensor_parallel_refusal(c, 4).empty());
  CHECK(model::tensor_parallel_refusal(c, 8) == "the number of KV heads (4) is not divisible by the tensor-parallel size 8");
  CHECK_THROWS_WITH(model::shard_config(c, 0, 3), Catch::Contains("not divisible by the tensor-parallel size 3"));
  const auto shard = model::shard_config(c, 1, 2);
  CHECK(shard.num_heads == 4);
  CHECK(shard.num_kv_heads == 2);
  CHECK(shard.hidden_dim == c.hidden_dim / 2);
  CHECK(shard.dim == c.dim);
}

TEST_CASE("vocab ranges cover the vocabulary in rank order, uneven splits included", "[tensor_parallel]") {
  for (int world : {1, 2, 3, 4, 8}) {
    std::int32_t next = 0;
    for (int r = 0; r < world; ++r) {
      const auto v = model::vocab_range(32003, r, world);
      CHECK(v.first == next);
      CHECK(v.count >= 32003 / world);
      next = v.first + v.count;
    }
    CHECK(next == 32003);
  }
}

TEST_CASE("a rank holds only its vocab range of the embedding and the classifier", "[tensor_parallel]") {
  const auto spec = four_heads(testing::tiny_llama3());
  const auto ck = testing::make_tiny_checkpoint(spec);
  const auto dir = testing::temp_dir("tp-vocab");
  testing::write_tiny_hf(ck, dir);
  const auto loaded = model::load_hf_model(dir);
  std::filesystem::remove_all(dir);
  const auto shard = model::shard_weights(loaded.config, loaded.weights, 1, 2);
  const auto v = model::vocab_range(loaded.config.vocab_size, 1, 2);
  CHECK(shard.token_embedding.rows == v.count);
  CHECK(shard.lm_head.rows == v.count);
  const std::size_t row_bytes = static_cast<std::size_t>(loaded.config.dim) * kernels::dtype_size(loaded.weights.token_embedding.dtype);
  CHECK(shard.token_embedding.data == static_cast<const std::byte*>(loaded.weights.token_embedding.data) + v.first * row_bytes);
  // A rank given the whole table cannot join a group: its rows would be misread.
  auto backend = kernels::make_backend("cpu");
  model::LlamaModel whole(loaded.config, loaded.weights, *backend);
  auto group = kernels::make_in_process_group(2);
  CHECK_THROWS_WITH(whole.join_tensor_parallel_group(group->member(0)), Catch::Contains("vocab range"));
}

TEST_CASE("all_gather_columns puts every rank's columns side by side on every rank", "[tensor_parallel]") {
  constexpr int kWorld = 3, kRows = 2;
  const int widths[kWorld] = {2, 3, 1};
  auto group = kernels::make_in_process_group(kWorld);
  std::vector<std::vector<float>> outs(kWorld, std::vector<float>(kRows * 6));
  std::vector<std::thread> ranks;
  for (int r = 0; r < kWorld; ++r)
    ranks.emplace_back([&, r] {
      std::vector<float> local(static_cast<std::size_t>(kRows * widths[r]));
      for (std::size_t i = 0; i < local.size(); ++i) local[i] = static_cast<float>(10 * r + static_cast<int>(i));
      group->member(r).all_gather_columns(kernels::Tensor{local.data(), kernels::DType::f32, kRows, widths[r]},
                                          kernels::Tensor{outs[r].data(), kernels::DType::f32, kRows, 6});
    });
  for (auto& t : ranks) t.join();
  const std::vector<float> want = {0, 1, 10, 11, 12, 20, 2, 3, 13, 14, 15, 21};
  for (int r = 0; r < kWorld; ++r) CHECK(outs[r] == want);
}
