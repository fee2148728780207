#include "net/json_read.hpp"

#include <climits>
#include <cmath>
#include <cstdio>

namespace pagedserve::net {

namespace {

std::string parse_failure(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "the request is not valid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "the request's JSON is nested too deeply";
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "the request holds a number that cannot be represented (too large or malformed)";
    case simdjson::CAPACITY:
      return "the request is too large to parse";
    case simdjson::EMPTY:
      return "the request is empty; expected a JSON object";
    default:
      return std::string("the request is not valid JSON (") + simdjson::error_message(code) + ")";
  }
}

}  // namespace

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

simdjson::dom::object parse_object(simdjson::dom::parser& parser, std::string_view body) {
  simdjson::dom::element root;
  if (auto code = parser.parse(body.data(), body.size(), true).get(root))
    throw ApiError(400, "invalid_request_error", parse_failure(code), "", "invalid_json");
  simdjson::dom::object obj;
  if (root.get(obj)) throw ApiError(400, "invalid_request_error", "the request must be a JSON object", "", "invalid_json");
  return obj;
}

std::int64_t read_int(simdjson::dom::element e, const std::string& name, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  if (e.get(v)) {
    // 16.0 is an integer written as a float: accept it, refuse 16.5.
    double d = 0;
    if (e.get(d) || d != std::floor(d)) throw invalid_request(name, name + " must be an integer");
    v = d < -9.2e18 ? INT64_MIN : d > 9.2e18 ? INT64_MAX : static_cast<std::int64_t>(d);
  }
  if (v < min || v > max)
    throw invalid_request(name, name + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                                    std::to_string(v));
  return v;
}

double read_number(simdjson::dom::element e, const std::string& name, double min, double max) {
  double d = 0;
  if (e.get(d)) throw invalid_request(name, name + " must be a number");
  if (!std::isfinite(d) || d < min || d > max) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s must be in [%g, %g], got %g", name.c_str(), min, max, d);
    throw invalid_request(name, buf);
  }
  return d;
}

bool read_bool(simdjson::dom::element e, const std::string& name) {
  bool b = false;
  if (e.get(b)) throw invalid_request(name, name + " must be true or false");
  return b;
}

std::string read_string(simdjson::dom::element e, const std::string& name, std::size_t max_bytes) {
  std::string_view s;
  if (e.get(s)) throw invalid_request(name, name + " must be a string");
  if (s.size() > max_bytes)
    throw invalid_request(name, name + " is " + std::to_string(s.size()) + " bytes long, more than the limit of " +
                                    std::to_string(max_bytes));
  return std::string(s);
}

simdjson::dom::array read_array(simdjson::dom::element e, const std::string& name) {
  simdjson::dom::array a;
  if (e.get(a)) throw invalid_request(name, name + " must be an array");
  return a;
}

simdjson::dom::object read_object(simdjson::dom::element e, const std::string& name) {
  simdjson::dom::object o;
  if (e.get(o)) throw invalid_request(name, name + " must be an object");
  return o;
}

}  // namespace pagedserve::net
