#include "cli/open_file_limit.hpp"

#include <sys/resource.h>

#include <fstream>

namespace pagedserve::cli {

namespace {

std::int64_t shown(rlim_t v) { return v == RLIM_INFINITY ? -1 : static_cast<std::int64_t>(v); }

// The most descriptors the kernel lets one process have: an unlimited hard
// limit cannot be taken literally.
rlim_t kernel_nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  rlim_t n = 0;
  return in >> n ? n : rlim_t{1} << 20;
}

}  // namespace

OpenFileLimit raise_open_file_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return {};
  OpenFileLimit out{shown(r.rlim_cur), shown(r.rlim_cur), shown(r.rlim_max)};
  const rlim_t target = r.rlim_max == RLIM_INFINITY ? kernel_nr_open() : r.rlim_max;
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < target) {
    rlimit raised{target, r.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = shown(target);
  }
  return out;
}

}  // namespace pagedserve::cli
