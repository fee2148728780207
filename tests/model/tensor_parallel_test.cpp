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
