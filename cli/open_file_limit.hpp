#pragma once
// The process's open-file limit (RLIMIT_NOFILE). Every connection holds a
// descriptor, and a shell's default soft limit (often 1024) is far below
// max_connections: the server raises its soft limit to the hard one at
// start, which any process may do.

#include <cstdint>

namespace pagedserve::cli {

struct OpenFileLimit {
  std::int64_t soft_before = 0;
  std::int64_t soft = 0;  // after raising (-1: unlimited)
  std::int64_t hard = 0;  // -1: unlimited
};

// Raises the soft limit as far as the hard one allows (capped at what the
// kernel accepts, nr_open); returns the limits before and after.
OpenFileLimit raise_open_file_limit();

}  // namespace pagedserve::cli
