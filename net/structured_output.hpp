#pragma once
// The request fields that constrain what a completion may say, all turned
// into one grammar::Constraint on the sampling parameters and compiled
// here, so that a bad schema, regex or grammar is a 400 naming the field:
//
//   response_format  {"type":"text"} | {"type":"json_object"} |
//                    {"type":"json_schema","json_schema":{"name","schema","strict"}}
//   guided_json      a schema (object or JSON text)     vLLM
//   guided_regex     a regex the whole output matches   vLLM
//   guided_choice    a list of strings                  vLLM
//   guided_grammar   GBNF text                          vLLM
//   structured_outputs {"json" | "regex" | "choice" | "grammar" | "json_object"}   vLLM
//   text.format      Responses API: {"type":"json_schema","name","schema"} | {"type":"json_object"} | {"type":"text"}

#include <simdjson.h>

#include <string_view>

#include "net/completion_request.hpp"

namespace pagedserve::net {

// Reads `key` when it is one of the fields above (but text); false if not.
// Throws ApiError.
bool read_structured_output_field(std::string_view key, simdjson::dom::element value, GenerationParams& out);

// The Responses API's `text` object: its `format`. Throws ApiError.
void read_text_format(simdjson::dom::element text, GenerationParams& out);

}  // namespace pagedserve::net
