#pragma once
// Structured log lines (logfmt: `ts=... level=info msg="..." key=value`) on
// stderr, or a file reopened on SIGHUP, so journald and log shippers parse
// them. Thread-safe; a line is written whole.

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/log.hpp"

namespace pagedserve::cli {

// One set of levels for the program and the network layer's records.
using LogLevel = net::LogLevel;

// "debug", "info", "warning", "error"; throws std::invalid_argument otherwise.
LogLevel parse_log_level(const std::string& name);

class Logger {
 public:
  using Field = std::pair<std::string, std::string>;
  using Fields = std::vector<Field>;

  // An empty path logs to stderr.
  explicit Logger(LogLevel level = LogLevel::info, std::string path = "");
  ~Logger();

  void set_level(LogLevel level);
  LogLevel level() const;
  // Reopens the log file (after rotation); stderr needs nothing.
  void reopen();
  void log(LogLevel level, const std::string& msg, const Fields& fields = {});

  // `value` as a logfmt value: bare when safe, else quoted and escaped.
  static std::string format_value(const std::string& value);

 private:
  void write_line(const std::string& line);
  mutable std::mutex mutex_;
  LogLevel level_;
  std::string path_;
  int fd_ = 2;
};

}  // namespace pagedserve::cli
