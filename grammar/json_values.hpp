#pragma once
// The generic JSON rules (value, object, array, string, number, ...) the
// schema converter and json_object mode share.

#include <string>

#include "grammar/expr.hpp"

namespace pagedserve::grammar::json {

// Adds the rules json-value, json-object, json-array, json-string,
// json-char, json-plain-char, json-number, json-integer, colon, comma.
void add_value_rules(Rules& rules);
// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);
// Characters a JSON string holds without an escape.
CodepointSet plain_chars();

}  // namespace pagedserve::grammar::json
