#pragma once
#include <cstdint>

namespace pagedserve::memory {

// A physical block copy the executor performs before the next step:
// copy-on-write inside the GPU pool, or a swap between the two pools.
struct BlockCopy {
  std::int32_t src = 0;
  std::int32_t dst = 0;
  bool operator==(const BlockCopy&) const = default;
};

}  // namespace pagedserve::memory
