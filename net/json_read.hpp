#pragma once
// Reading a request's JSON with simdjson's DOM, each failure an ApiError
// that names the field: "max_tokens must be an integer", never a bare
// "INCORRECT_TYPE".

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "net/api_error.hpp"

namespace pagedserve::net {

// Parses `body` as one JSON object; malformed JSON, invalid UTF-8, too deep
// nesting and out-of-range numbers are 400s. The object lives in `parser`.
simdjson::dom::object parse_object(simdjson::dom::parser& parser, std::string_view body);

// A parser for this thread, reused across requests (simdjson keeps its buffers).
simdjson::dom::parser& thread_parser();

std::int64_t read_int(simdjson::dom::element e, const std::string& name, std::int64_t min, std::int64_t max);
double read_number(simdjson::dom::element e, const std::string& name, double min, double max);
bool read_bool(simdjson::dom::element e, const std::string& name);
std::string read_string(simdjson::dom::element e, const std::string& name, std::size_t max_bytes);
simdjson::dom::array read_array(simdjson::dom::element e, const std::string& name);
simdjson::dom::object read_object(simdjson::dom::element e, const std::string& name);

}  // namespace pagedserve::net
