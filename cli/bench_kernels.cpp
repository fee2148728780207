// `pagedserve bench kernels`: PagedAttention decode over batch x context,
// as achieved bandwidth against the device's own copy bandwidth (whole-block
// copies through the same backend, measured in the same run).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <sstream>
#include <memory>

#include "actors/engine.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/bench.hpp"
#include "kernels/backend.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench kernels [options]

  --batch LIST     sequences (default: 1,8,32 on cpu; 1,8,32,64,128,256 on cuda)
  --context LIST   tokens per sequence (default: 128,512 on cpu; 128,512,1024,2048,4096,8192 on cuda)
  --heads H        query heads (default 32)   --gqa LIST  query heads per KV head (default 1,4)
  --head-size D    (default 128)
  --iters N        timed repetitions (default 20)
  --kernels LIST   cuda: PagedAttention kernels to time side by side (default fast,simple,
                   or the one --attention-kernel names)
  --json           one JSON line per configuration and kernel

engine settings (as for serve; the device, dtype (auto: f16 on a GPU),
attention kernel and block size apply):
)";

std::vector<int> ints(const std::string& text, const char* flag) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    int v = 0;
    try { v = std::stoi(item, &used); } catch (const std::exception&) { used = 0; }
    if (used != item.size() || v <= 0) throw CliError(std::string("--") + flag + " expects positive integers separated by commas");
    out.push_back(v);
  }
  return out;
}

template <class F>
double seconds_per_call(kernels::Backend& b, int iters, F&& f) {
  f();  // warm-up
  b.synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  b.synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

// The device's copy bandwidth, the ceiling attention is held against: one
// large copy (block 0 to block 1 of a two-block pool, each block 64 MiB on a
// CPU and 1 GiB on a GPU), counting each byte read and written.
double copy_bandwidth(kernels::Backend& b, kernels::DType dtype, int iters) {
  kernels::KvCacheSpec spec{2, 1, 8, 16, 128, dtype};
  const std::size_t want = b.name() == "cpu" ? (64u << 20) : (1u << 30);
  spec.num_layers = static_cast<int>(std::max<std::size_t>(1, want / spec.bytes_per_block()));
  auto pool = b.allocate_kv_cache(spec);
  const std::vector<kernels::BlockCopy> copy{{0, 1}};
  const double s = seconds_per_call(b, iters, [&] { b.copy_blocks(pool, copy); });
  return 2.0 * static_cast<double>(spec.bytes_per_block()) / s;
}

}  // namespace

int run_bench_kernels(int argc, char** argv) {
  const auto command = read_bench_command_line(
      argc, argv, kHelp, {"batch", "context", "heads", "gqa", "head-size", "iters", "kernels"}, {"json"});
  if (!command) return 0;
  const auto& [args, config] = *command;
  const std::string& device = config.device;
  const bool cpu = device == "cpu";
  const auto batches = ints(args.get_or("batch", cpu ? "1,8,32" : "1,8,32,64,128,256"), "batch");
  const auto contexts = ints(args.get_or("context", cpu ? "128,512" : "128,512,1024,2048,4096,8192"), "context");
  const auto gqas = ints(args.get_or("gqa", "1,4"), "gqa");
  const int heads = static_cast<int>(args.get_int("heads", 32, 1, 1024));
  const int hs = static_cast<int>(args.get_int("head-size", 128, 2, 1024));
  const int bs = config.block_size;
  const int iters = static_cast<int>(args.get_int("iters", 20, 1, 100000));
  // One backend per kernel timed; the first also allocates the pools.
  std::vector<std::string> kernel_names{"cpu"};
  std::vector<std::unique_ptr<kernels::Backend>> backends;
  // No checkpoint: auto is what f32 weights run in (f16 on a GPU).
  kernels::BackendOptions options = actors::backend_options(config, kernels::DType::f32);
  if (!cpu) {
    kernel_names.clear();
    const std::string fallback = args.has("attention-kernel") ? (config.simple_attention ? "simple" : "fast") : "fast,simple";
    std::stringstream ss(args.get_or("kernels", fallback));
    for (std::string k; std::getline(ss, k, ',');) {
      if (k != "fast" && k != "simple") throw CliError("--kernels lists fast and/or simple");
      kernel_names.push_back(k);
    }
  }
  for (const auto& k : kernel_names) {
    options.simple_attention = k == "simple";
    backends.push_back(kernels::make_backend(device, options));
  }
  kernels::Backend& backend = *backends.front();
  const auto dtype = backend.activation_dtype();
  const double copy_bw = copy_bandwidth(backend, dtype, iters);
  if (!args.flag("json"))
    std::printf("%s, %s, head size %d, block size %d; copy bandwidth %.1f GB/s\n%6s %6s %8s %7s %12s %10s %9s\n",
                backend.name().c_str(), std::string(kernels::dtype_name(dtype)).c_str(), hs, bs, copy_bw / 1e9, "gqa",
                "batch", "context", "kernel", "latency us", "GB/s", "of copy");
  std::mt19937 rng(1);
  for (int gqa : gqas) {
    if (heads % gqa) throw CliError("--gqa values must divide --heads");
    for (int batch : batches)
      for (int ctx : contexts) {
        const int blocks_per_seq = (ctx + bs - 1) / bs;
        kernels::KvCacheSpec spec{batch * blocks_per_seq + 1, 1, heads / gqa, bs, hs, dtype};
        if (spec.total_bytes() > backend.memory_info().free_bytes * 0.8) continue;  // does not fit this device
        auto pool = backend.allocate_kv_cache(spec);
        std::vector<std::int32_t> ids(spec.num_blocks - 1);
        std::iota(ids.begin(), ids.end(), 1);
        std::shuffle(ids.begin(), ids.end(), rng);  // scattered blocks, as a busy pool has them
        kernels::BatchMetadata meta;
        meta.query_start.push_back(0);
        meta.max_blocks_per_seq = blocks_per_seq;
        for (int s = 0; s < batch; ++s) {
          meta.token_ids.push_back(0);
          meta.positions.push_back(ctx - 1);
          meta.slot_mapping.push_back(-1);
          meta.query_start.push_back(s + 1);
          meta.context_lens.push_back(ctx);
          meta.block_tables.insert(meta.block_tables.end(), ids.begin() + s * blocks_per_seq, ids.begin() + (s + 1) * blocks_per_seq);
        }
        auto q = backend.allocate_tensor(dtype, batch, static_cast<std::int64_t>(heads) * hs);
        auto out = backend.allocate_tensor(dtype, batch, static_cast<std::int64_t>(heads) * hs);
        const auto pool_elems = static_cast<std::int64_t>(spec.total_bytes() / kernels::dtype_size(dtype));
        backend.fill_synthetic({pool.data(), dtype, 1, pool_elems}, {7, 1.0f});  // random K/V and queries
        backend.fill_synthetic(q.view, {8, 1.0f});
        backend.synchronize();
        const kernels::AttentionParams p{heads, heads / gqa, hs, 1.0f / std::sqrt(static_cast<float>(hs))};
        const double bytes = static_cast<double>(batch) * ctx * (heads / gqa) * hs * 2 * kernels::dtype_size(dtype) +
                             2.0 * static_cast<double>(q.view.bytes());
        for (std::size_t k = 0; k < backends.size(); ++k) {
          kernels::Backend& b = *backends[k];
          auto step = b.prepare(meta);
          const double s = seconds_per_call(b, iters, [&] { b.paged_attention(q.view, pool, 0, *step, p, out.view); });
          if (args.flag("json")) {
            net::JsonWriter w;
            w.begin_object().field("device", b.name()).field("dtype", std::string(kernels::dtype_name(dtype)));
            w.field("kernel", kernel_names[k]).field("gqa", gqa).field("batch", batch).field("context", ctx);
            w.field("head_size", hs).field("block_size", bs).field("latency_us", s * 1e6);
            w.field("bandwidth_gbs", bytes / s / 1e9).field("copy_bandwidth_gbs", copy_bw / 1e9);
            w.field("fraction_of_copy", bytes / s / copy_bw).end_object();
            std::printf("%s\n", w.str().c_str());
          } else {
            std::printf("%6d %6d %8d %7s %12.1f %10.1f %8.0f%%\n", gqa, batch, ctx, kernel_names[k].c_str(), s * 1e6,
                        bytes / s / 1e9, 100 * bytes / s / copy_bw);
          }
          std::fflush(stdout);
        }
      }
  }
  return 0;
}

}  // namespace pagedserve::cli
