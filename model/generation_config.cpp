#include "model/generation_config.hpp"

#include <simdjson.h>

#include <sstream>
#include <stdexcept>

#include "model/sampler.hpp"

namespace pagedserve::model {

namespace {

using simdjson::dom::element;

std::optional<double> number(element root, const char* name, const std::string& where) {
  element v;
  if (root[name].get(v) || v.is_null()) return std::nullopt;
  double x = 0;
  if (v.get(x)) throw std::runtime_error(where + ": generation_config.json field " + name + " is not a number");
  return x;
}

std::optional<float> as_float(std::optional<double> x) {
  return x ? std::optional<float>(static_cast<float>(*x)) : std::nullopt;
}

std::vector<std::int32_t> eos_ids(element root, const std::string& where) {
  element v;
  std::vector<std::int32_t> out;
  if (root["eos_token_id"].get(v) || v.is_null()) return out;
  auto take = [&](element e) {
    std::int64_t id = 0;
    if (e.get(id) || id < 0 || id > INT32_MAX)
      throw std::runtime_error(where + ": generation_config.json eos_token_id holds something other than token ids");
    out.push_back(static_cast<std::int32_t>(id));
  };
  if (v.is_array()) {
    for (element e : v.get_array()) take(e);
  } else {
    take(v);
  }
  return out;
}

}  // namespace

std::string GenerationDefaults::describe() const {
  std::ostringstream out;
  auto put = [&](const char* name, auto value) {
    if (value) out << (out.tellp() > 0 ? " " : "") << name << "=" << *value;
  };
  put("temperature", temperature);
  put("top_p", top_p);
  put("top_k", top_k);
  put("min_p", min_p);
  put("repetition_penalty", repetition_penalty);
  return out.str();
}

SamplingParams GenerationDefaults::sampling() const {
  SamplingParams p;
  if (temperature) p.temperature = *temperature;
  if (top_p) p.top_p = *top_p;
  if (top_k) p.top_k = *top_k;
  if (min_p) p.min_p = *min_p;
  if (repetition_penalty) p.repetition_penalty = *repetition_penalty;
  return p;
}

GenerationConfig parse_generation_config(const std::string& json_text, const std::string& where) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json_text).get(root) || !root.is_object())
    throw std::runtime_error(where + ": generation_config.json is not a JSON object");
  GenerationConfig g;
  g.defaults.temperature = as_float(number(root, "temperature", where));
  g.defaults.top_p = as_float(number(root, "top_p", where));
  g.defaults.min_p = as_float(number(root, "min_p", where));
  g.defaults.repetition_penalty = as_float(number(root, "repetition_penalty", where));
  if (auto k = number(root, "top_k", where)) g.defaults.top_k = static_cast<int>(*k);
  try {
    g.defaults.sampling().validate();
  } catch (const InvalidParam& e) {
    throw std::runtime_error(where + ": generation_config.json: " + e.what());
  }
  g.eos_ids = eos_ids(root, where);
  return g;
}

}  // namespace pagedserve::model
