#include "net/log.hpp"

#include <cstdio>
#include <memory>
#include <mutex>

namespace pagedserve::net {

namespace {

std::mutex g_mu;
std::shared_ptr<const LogSink> g_sink;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "?";
}

}  // namespace

void set_log_sink(LogSink sink) {
  auto s = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  std::lock_guard lock(g_mu);
  g_sink = std::move(s);
}

void log(LogLevel level, const std::string& message, const LogFields& fields) {
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard lock(g_mu);
    sink = g_sink;
  }
  if (sink) return (*sink)(level, message, fields);
  std::string line = std::string(level_name(level)) + ": " + message;
  for (const auto& [k, v] : fields) line += " " + k + "=" + v;
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace pagedserve::net
