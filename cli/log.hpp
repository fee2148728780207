#pragma once
// Structured log lines (logfmt: `ts=... level=info msg="..." key=value`) on
// stderr, or a file reopened on SIGHUP, so journald and log shippers parse
// them. Thread-safe; a line is written whole. When stderr is the journal
// (systemd sets JOURNAL_STREAM to its device:inode), each line starts with
// its syslog priority, `<3>` to `<7>`, so `journalctl -p warning` filters.

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

// Whether fd 2 is the stream systemd named in JOURNAL_STREAM.
bool stderr_is_journal();
// "<3>" when stderr is the journal, else "": for errors printed without a Logger.
const char* journal_error_prefix();

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
  bool journal_ = false;  // prefix lines with their syslog priority
};

}  // namespace pagedserve::cli
