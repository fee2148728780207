#include "cli/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace pagedserve::cli {

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "info";
}

// sd-daemon(3) prefixes: the syslog priority of each level.
const char* journal_prefix(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "<7>";
    case LogLevel::info: return "<6>";
    case LogLevel::warning: return "<4>";
    case LogLevel::error: return "<3>";
  }
  return "<6>";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

int open_log(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) throw std::runtime_error("cannot open log file " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  unsigned long long dev = 0, ino = 0;
  if (!stream || std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return ::fstat(2, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

const char* journal_error_prefix() { return stderr_is_journal() ? journal_prefix(LogLevel::error) : ""; }

LogLevel parse_log_level(const std::string& name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warning") return LogLevel::warning;
  if (name == "error") return LogLevel::error;
  throw std::invalid_argument("unknown log level '" + name + "' (debug, info, warning, error)");
}

Logger::Logger(LogLevel level, std::string path) : level_(level), path_(std::move(path)) {
  if (!path_.empty()) fd_ = open_log(path_);
  else journal_ = stderr_is_journal();
}

Logger::~Logger() {
  if (fd_ != 2) ::close(fd_);
}

void Logger::set_level(LogLevel level) {
  std::lock_guard<std::mutex> lock(mutex_);
  level_ = level;
}

LogLevel Logger::level() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return level_;
}

void Logger::reopen() {
  if (path_.empty()) return;
  int fd = open_log(path_);
  std::lock_guard<std::mutex> lock(mutex_);
  ::close(fd_);
  fd_ = fd;
}

std::string Logger::format_value(const std::string& v) {
  bool bare = !v.empty();
  for (char c : v) bare &= c > ' ' && c != '"' && c != '=' && c != '\\' && c != 0x7f;
  if (bare) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) out += ' ';
    else out += c;
  }
  return out + "\"";
}

void Logger::log(LogLevel level, const std::string& msg, const Fields& fields) {
  if (level < this->level()) return;
  std::string line = journal_ ? journal_prefix(level) : "";
  line += "ts=" + timestamp() + " level=" + level_name(level) + " msg=" + format_value(msg);
  for (const auto& [k, v] : fields) line += " " + k + "=" + format_value(v);
  write_line(line + "\n");
}

void Logger::write_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n <= 0) return;  // logging never takes the server down
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace pagedserve::cli
