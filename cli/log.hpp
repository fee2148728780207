#pragma once
// Structured log lines (logfmt: `ts=... level=info msg="..." key=value`) on
// stderr, or a file reopened on SIGHUP, so journald and log shippers parse
// them. Thread-safe; a line is written whole.

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>

namespace pagedserve::cli {

enum class LogLevel { debug, info, warning, error };

// "debug", "info", "warning", "error"; throws std::invalid_argument otherwise.
LogLevel parse_log_level(const std::string& name);

class Logger {
 public:
  using Field = std::pair<std::string, std::string>;

  // An empty path logs to stderr.
  explicit Logger(LogLevel level = LogLevel::info, std::string path = "");
  ~Logger();

  void set_level(LogLevel level);
  LogLevel level() const;
  // Reopens the log file (after rotation); stderr needs nothing.
  void reopen();
  void log(LogLevel level, const std::string& msg, std::initializer_list<Field> fields = {});

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
