#include "net/sse.hpp"

namespace pagedserve::net {

std::string sse_event(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 8);
  std::size_t start = 0;
  while (true) {
    // A line ends at \n, \r\n or \r (all three end a line in the format).
    const std::size_t end = payload.find_first_of("\r\n", start);
    out += "data: ";
    out.append(payload.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (payload[end] == '\r' && start < payload.size() && payload[start] == '\n') ++start;
  }
  out += '\n';
  return out;
}

}  // namespace pagedserve::net
