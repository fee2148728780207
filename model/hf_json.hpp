#pragma once
// Reading the parts of tokenizer.json (normalizer, pre_tokenizer, decoder,
// model): typed field access that throws naming the field, and the refusal
// of a declaration this project does not implement.

#include <simdjson.h>

#include <string>
#include <string_view>

namespace pagedserve::model::hf_json {

using Element = simdjson::dom::element;

// The "type" of a stage object.
std::string type_of(Element stage, const char* stage_name);
// A string field; `fallback` when absent or null.
std::string string_or(Element obj, const char* field, const std::string& fallback);
bool bool_or(Element obj, const char* field, bool fallback);
std::int64_t int_or(Element obj, const char* field, std::int64_t fallback);
// Whether the field is present and not null.
bool has(Element obj, const char* field);
// A {"String": "..."} or {"Regex": "..."} pattern: its text, and whether it is a regex.
std::string pattern_of(Element obj, bool& is_regex);

// The steps of a Sequence stage (its `field`: "normalizers", "pretokenizers", "decoders").
simdjson::dom::array sequence_steps(Element sequence, const char* stage_name, const char* field);

// Refuses a stage type with its name and the supported ones.
[[noreturn]] void refuse(const char* stage_name, const std::string& type, const char* supported);

}  // namespace pagedserve::model::hf_json
