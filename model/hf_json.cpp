#include "model/hf_json.hpp"

#include <stdexcept>

namespace pagedserve::model::hf_json {

std::string type_of(Element stage, const char* stage_name) {
  std::string_view type;
  if (stage["type"].get(type)) throw std::runtime_error(std::string("tokenizer.json ") + stage_name + " has no type");
  return std::string(type);
}

std::string string_or(Element obj, const char* field, const std::string& fallback) {
  Element v;
  if (obj[field].get(v) || v.is_null()) return fallback;
  std::string_view s;
  if (v.get(s)) throw std::runtime_error(std::string("tokenizer.json field ") + field + " is not a string");
  return std::string(s);
}

bool bool_or(Element obj, const char* field, bool fallback) {
  Element v;
  if (obj[field].get(v) || v.is_null()) return fallback;
  bool b = false;
  if (v.get(b)) throw std::runtime_error(std::string("tokenizer.json field ") + field + " is not a boolean");
  return b;
}

std::int64_t int_or(Element obj, const char* field, std::int64_t fallback) {
  Element v;
  if (obj[field].get(v) || v.is_null()) return fallback;
  std::int64_t n = 0;
  if (v.get(n)) throw std::runtime_error(std::string("tokenizer.json field ") + field + " is not an integer");
  return n;
}

bool has(Element obj, const char* field) {
  Element v;
  return !obj[field].get(v) && !v.is_null();
}

std::string pattern_of(Element obj, bool& is_regex) {
  Element pattern;
  if (obj["pattern"].get(pattern)) throw std::runtime_error("tokenizer.json pattern is missing");
  std::string_view text;
  if (!pattern["String"].get(text)) {
    is_regex = false;
    return std::string(text);
  }
  if (!pattern["Regex"].get(text)) {
    is_regex = true;
    return std::string(text);
  }
  throw std::runtime_error("tokenizer.json pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
}

simdjson::dom::array sequence_steps(Element sequence, const char* stage_name, const char* field) {
  simdjson::dom::array steps;
  if (sequence[field].get(steps))
    throw std::runtime_error(std::string("tokenizer.json ") + stage_name + " Sequence has no " + field);
  return steps;
}

void refuse(const char* stage_name, const std::string& type, const char* supported) {
  throw std::runtime_error(std::string("tokenizer.json ") + stage_name + " type " + type +
                           " is not supported; supported: " + supported);
}

}  // namespace pagedserve::model::hf_json
