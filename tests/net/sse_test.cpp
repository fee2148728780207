// SSE framing, read back by a parser written from the HTML spec's
// "interpret an event stream" steps.

#include "net/sse.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve::net;

namespace {

// The data of each dispatched event (fields other than data are ignored).
std::vector<std::string> parse_event_stream(const std::string& stream) {
  std::vector<std::string> events;
  std::string data;
  bool has_data = false;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t end = stream.find_first_of("\r\n", pos);
    if (end == std::string::npos) break;  // an incomplete line is not processed
    std::string line = stream.substr(pos, end - pos);
    pos = end + 1;
    if (stream[end] == '\r' && pos < stream.size() && stream[pos] == '\n') ++pos;
    if (line.empty()) {
      if (has_data) {
        if (!data.empty() && data.back() == '\n') data.pop_back();
        events.push_back(data);
      }
      data.clear();
      has_data = false;
      continue;
    }
    if (line[0] == ':') continue;
    auto colon = line.find(':');
    std::string field = line.substr(0, colon), value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "data") {
      data += value + "\n";
      has_data = true;
    }
  }
  return events;
}

}  // namespace

TEST_CASE("each payload becomes one event with the same data", "[sse]") {
  const std::vector<std::string> payloads = {R"({"a":1})", "", " leading space", "multi\nline\r\npayload\rend",
                                             "trailing newline\n", "colon: inside"};
  std::string stream;
  for (const auto& p : payloads) stream += sse_event(p);
  stream += kSseDone;
  auto events = parse_event_stream(stream);
  REQUIRE(events.size() == payloads.size() + 1);
  CHECK(events[0] == payloads[0]);
  CHECK(events[1] == "");
  CHECK(events[2] == " leading space");
  CHECK(events[3] == "multi\nline\npayload\nend");  // line ends normalise to \n
  CHECK(events[4] == "trailing newline\n");
  CHECK(events[5] == "colon: inside");
  CHECK(events.back() == "[DONE]");
}

TEST_CASE("a JSON payload is one data line ended by a blank line", "[sse]") {
  CHECK(sse_event(R"({"text":"x"})") == "data: {\"text\":\"x\"}\n\n");
  CHECK(std::string(kSseDone) == "data: [DONE]\n\n");
}
