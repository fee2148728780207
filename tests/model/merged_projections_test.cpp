// The forward pass as a GPU backend runs it (q/k/v and gate/up stacked into
// one GEMM each, the q/k/v biases concatenated, split_qkv_rotary), checked
// on the CPU: every op is the CPU backend's own, only merges_projections()
// says yes. Each architecture must give the logits of the separate path.

#include <catch2/catch.hpp>
#include <filesystem>

#include "kernels/backend.hpp"
#include "model/hf_loader.hpp"
#include "stepwise_logits.hpp"
#include "tiny_hf.hpp"

using namespace pagedserve;
using namespace pagedserve::kernels;

namespace {

// The CPU backend, asking the model for merged projections.
class MergingCpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  DType activation_dtype() const override { return cpu_->activation_dtype(); }
  DeviceMemoryInfo memory_info() const override { return cpu_->memory_info(); }
  Buffer allocate(std::size_t bytes) override { return cpu_->allocate(bytes); }
  DType weight_dtype() const override { return cpu_->weight_dtype(); }
  void upload_weight_into(const HostTensorView& host, Tensor dst) override { cpu_->upload_weight_into(host, dst); }
  void fill_synthetic(Tensor t, const SyntheticFill& fill) override { cpu_->fill_synthetic(t, fill); }
  void to_host_f32(const Tensor& t, std::span<float> out) override { cpu_->to_host_f32(t, out); }
  KvCache allocate_kv_cache(const KvCacheSpec& spec) override { return cpu_->allocate_kv_cache(spec); }
  KvCache allocate_swap_space(const KvCacheSpec& spec) override { return cpu_->allocate_swap_space(spec); }
  std::unique_ptr<StepBatch> prepare(const BatchMetadata& meta) override { return cpu_->prepare(meta); }
  void synchronize() override {}
  void embedding(const Tensor& table, const StepBatch& b, Tensor out) override { cpu_->embedding(table, b, out); }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor out) override { cpu_->rms_norm(x, w, eps, out); }
  void matmul(const Tensor& x, const Tensor& w, Tensor out) override { cpu_->matmul(x, w, out); }
  void rotary(Tensor q, Tensor k, const StepBatch& b, const RopeParams& p) override { cpu_->rotary(q, k, b, p); }
  void silu_mul(const Tensor& g, const Tensor& u, Tensor out) override { cpu_->silu_mul(g, u, out); }
  void add(Tensor x, const Tensor& y) override { cpu_->add(x, y); }
  void add_bias(Tensor x, const Tensor& bias) override { cpu_->add_bias(x, bias); }
  bool merges_projections() const override { return true; }
  void split_qkv_rotary(const Tensor& qkv, Tensor q, Tensor k, Tensor v, const StepBatch& b,
                        const RopeParams& p) override {
    cpu_->split_qkv_rotary(qkv, q, k, v, b, p);
  }
  void silu_mul_halves(const Tensor& gate_up, Tensor out) override { cpu_->silu_mul_halves(gate_up, out); }
  void gather_logit_rows(const Tensor& x, const StepBatch& b, Tensor out) override { cpu_->gather_logit_rows(x, b, out); }
  void write_kv(const Tensor& k, const Tensor& v, KvCache& c, int layer, const StepBatch& b) override {
    cpu_->write_kv(k, v, c, layer, b);
  }
  void paged_attention(const Tensor& q, const KvCache& c, int layer, const StepBatch& b, const AttentionParams& p,
                       Tensor out) override {
    cpu_->paged_attention(q, c, layer, b, p, out);
  }
  void copy_blocks(KvCache& c, std::span<const BlockCopy> copies) override { cpu_->copy_blocks(c, copies); }
  void swap_blocks(const KvCache& s, KvCache& d, std::span<const BlockCopy> copies) override {
    cpu_->swap_blocks(s, d, copies);
  }

 private:
  std::unique_ptr<Backend> cpu_ = make_backend("cpu");
};

}  // namespace

TEST_CASE("merged projections give the separate projections' logits for every architecture", "[architectures]") {
  for (const auto& spec : {testing::tiny_llama3(), testing::tiny_qwen2(), testing::tiny_qwen3(), testing::tiny_mistral()}) {
    const auto dir = testing::temp_dir("merged-" + spec.architecture);
    testing::write_tiny_hf(testing::make_tiny_checkpoint(spec), dir);
    auto hf = model::load_hf_model(dir);
    auto cpu = make_backend("cpu");
    MergingCpuBackend merging;
    model::LlamaModel separate(hf.config, hf.weights, *cpu), merged(hf.config, hf.weights, merging);
    const auto tokens = testing::random_prompt(30, spec.vocab, 9);
    const auto want = testing::stepwise_logits(separate, tokens, 11, 4);
    const auto got = testing::stepwise_logits(merged, tokens, 11, 4);
    double worst = 0;
    for (std::size_t t = 0; t < want.size(); ++t)
      for (std::size_t i = 0; i < want[t].size(); ++i) worst = std::max(worst, double(std::abs(got[t][i] - want[t][i])));
    INFO(spec.architecture << ": largest logit difference " << worst);
    CHECK(worst < 1e-4);
    std::filesystem::remove_all(dir);
  }
}
