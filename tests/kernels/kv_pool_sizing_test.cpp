#include "kernels/kv_pool_sizing.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::kernels;

TEST_CASE("KV pools get what utilization leaves after weights and activations", "[pool_sizing]") {
  PoolSizingInput in;
  in.total_device_bytes = 80ull << 30;  // an 80 GiB card
  in.gpu_memory_utilization = 0.9;
  in.weight_bytes = 13ull << 30;        // Llama-2-7B in fp16
  in.peak_activation_bytes = 2ull << 30;
  in.bytes_per_block = 16 * 512 * 1024;  // 16 tokens x 512 KiB per token
  in.swap_space_gib = 4;
  auto p = size_kv_pools(in);
  // (72 - 15) GiB / 8 MiB = 7296 blocks; 4 GiB / 8 MiB = 512.
  CHECK(p.num_gpu_blocks == 7296);
  CHECK(p.num_cpu_blocks == 512);
}

TEST_CASE("a card too small for the model says how much is missing", "[pool_sizing]") {
  PoolSizingInput in;
  in.total_device_bytes = 16ull << 30;
  in.weight_bytes = 14ull << 30;
  in.peak_activation_bytes = 1ull << 30;
  in.bytes_per_block = 1 << 20;
  CHECK_THROWS_WITH(size_kv_pools(in), Catch::Contains("no room for the KV cache") && Catch::Contains("more is needed"));
}

TEST_CASE("sizing inputs out of range are refused", "[pool_sizing]") {
  PoolSizingInput in;
  in.total_device_bytes = 1ull << 30;
  in.bytes_per_block = 1024;
  in.gpu_memory_utilization = 0;
  CHECK_THROWS_AS(size_kv_pools(in), std::invalid_argument);
  in.gpu_memory_utilization = 1.5;
  CHECK_THROWS_AS(size_kv_pools(in), std::invalid_argument);
  in.gpu_memory_utilization = 0.5;
  in.bytes_per_block = 0;
  CHECK_THROWS_AS(size_kv_pools(in), std::invalid_argument);
  in.bytes_per_block = 1024;
  in.swap_space_gib = -1;
  CHECK_THROWS_AS(size_kv_pools(in), std::invalid_argument);
  in.swap_space_gib = 0;
  CHECK(size_kv_pools(in).num_cpu_blocks == 0);
}
