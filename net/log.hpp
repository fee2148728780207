#pragma once
// Where the network layer's log records go. The server only states what
// happened (a message and key=value fields); the program decides how to
// write it: `pagedserve serve` hands records to its structured logger.
// Without a sink, records go to stderr one line each.

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace pagedserve::net {

enum class LogLevel { debug, info, warning, error };
using LogFields = std::vector<std::pair<std::string, std::string>>;
using LogSink = std::function<void(LogLevel, const std::string& message, const LogFields& fields)>;

// Replaces the sink (thread-safe); an empty function restores stderr.
void set_log_sink(LogSink sink);
void log(LogLevel level, const std::string& message, const LogFields& fields = {});

}  // namespace pagedserve::net
