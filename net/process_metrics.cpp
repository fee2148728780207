#include "net/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pagedserve::net {

namespace {

// The fields of /proc/self/stat after the command name (which may hold
// spaces): fields[0] is the state (field 3 of proc(5)).
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// Seconds since the epoch at boot (btime in /proc/stat); 0 if unknown.
double boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int open_fds() {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

}  // namespace

void process_series(MetricsText& t) {
  const auto f = stat_fields();
  // proc(5) numbers fields from 1: utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto field = [&f](int number) { return std::stod(f.at(static_cast<std::size_t>(number - 3))); };
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (f.size() >= 22 && ticks > 0) {
    t.metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
             (field(14) + field(15)) / ticks);
    t.metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23));
    t.metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24) * page);
    if (const double boot = boot_time(); boot > 0)
      t.metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
               boot + field(22) / ticks);
  }
  t.metric("process_open_fds", "gauge", "Number of open file descriptors.", open_fds());
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    t.metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", static_cast<double>(limit.rlim_cur));
}

}  // namespace pagedserve::net
