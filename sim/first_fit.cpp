#include "sim/first_fit.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace pagedserve::sim {

FirstFitAllocator::FirstFitAllocator(std::int64_t capacity) : capacity_(capacity), num_free_(capacity) {
  if (capacity <= 0) throw std::invalid_argument("allocator capacity must be positive");
  free_.emplace(0, capacity);
}

std::optional<std::int64_t> FirstFitAllocator::allocate(std::int64_t size) {
  if (size <= 0) throw std::invalid_argument("allocation size must be positive");
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    const std::int64_t start = it->first, rest = it->second - size;
    free_.erase(it);
    if (rest > 0) free_.emplace(start + size, rest);
    num_free_ -= size;
    return start;
  }
  return std::nullopt;
}

void FirstFitAllocator::free(std::int64_t start, std::int64_t size) {
  if (size <= 0 || start < 0 || start + size > capacity_) throw std::logic_error("free of a range outside the allocator");
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first < start + size) throw std::logic_error("double free");
  if (next != free_.begin() && std::prev(next)->first + std::prev(next)->second > start) throw std::logic_error("double free");
  std::int64_t s = start, n = size;
  if (next != free_.end() && next->first == start + size) {  // merge with the right neighbour
    n += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {  // merge with the left neighbour
      s = prev->first;
      n += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(s, n);
  num_free_ += size;
}

std::int64_t FirstFitAllocator::largest_free_extent() const {
  std::int64_t best = 0;
  for (const auto& [start, size] : free_) best = std::max(best, size);
  return best;
}

}  // namespace pagedserve::sim
