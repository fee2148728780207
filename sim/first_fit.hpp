#pragma once
// A first-fit allocator of contiguous ranges in [0, capacity): what a
// serving system that reserves one contiguous KV region per request uses.
// Free extents are kept sorted and coalesced, so external fragmentation
// (free space split into holes too small to use) happens as it would.

#include <cstdint>
#include <map>
#include <optional>

namespace pagedserve::sim {

class FirstFitAllocator {
 public:
  explicit FirstFitAllocator(std::int64_t capacity);

  // The start of the lowest free extent of at least `size`, now taken.
  std::optional<std::int64_t> allocate(std::int64_t size);
  // Returns [start, start + size), merging with free neighbours.
  void free(std::int64_t start, std::int64_t size);

  std::int64_t capacity() const { return capacity_; }
  std::int64_t num_free() const { return num_free_; }
  std::int64_t largest_free_extent() const;
  int num_extents() const { return static_cast<int>(free_.size()); }

 private:
  std::int64_t capacity_;
  std::int64_t num_free_;
  std::map<std::int64_t, std::int64_t> free_;  // start -> size, disjoint, never adjacent
};

}  // namespace pagedserve::sim
