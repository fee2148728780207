#include "net/structured_output.hpp"

#include "grammar/constraint.hpp"
#include "net/json_read.hpp"

namespace pagedserve::net {

namespace {

using simdjson::dom::element;

// A schema given as an object, or as JSON text (vLLM accepts both).
std::string schema_text(element v, const std::string& field) {
  std::string_view text;
  if (!v.get_string().get(text)) return std::string(text);
  if (!v.is_object() && !v.is_bool()) throw invalid_request(field, field + " must be a JSON Schema object");
  return simdjson::to_string(v);
}

// Compiles now: a bad constraint is refused with the request, by field.
void set_constraint(GenerationParams& out, grammar::Constraint c, const std::string& field) {
  if (!out.sampling.constraint.empty())
    throw invalid_request(field, "only one structured output constraint may be given (response_format, guided_*, structured_outputs)");
  try {
    grammar::compile(c);
  } catch (const grammar::GrammarError& e) {
    throw invalid_request(field, field + ": " + e.what());
  }
  out.sampling.constraint = std::move(c);
}

std::string choice_text(element v, const std::string& field) {
  for (element item : read_array(v, field))
    if (!item.is_string()) throw invalid_request(field, field + " must be a list of strings");
  return simdjson::to_string(v);
}

// {"type": "json_schema", <holder>: {"schema": ...}}: OpenAI's chat and
// completions nest the schema in "json_schema"; Responses puts it inline.
void read_format(simdjson::dom::object format, const std::string& field, bool nested, GenerationParams& out) {
  std::string_view type;
  if (format["type"].get(type)) throw invalid_request(field + ".type", field + ".type is required");
  if (type == "text") return;
  if (type == "json_object") return set_constraint(out, {"json_object", ""}, field);
  if (type != "json_schema")
    throw invalid_request(field + ".type", field + ".type must be text, json_object or json_schema");
  simdjson::dom::object holder = format;
  std::string where = field;
  if (nested) {
    element inner;
    if (format["json_schema"].get(inner)) throw invalid_request(field + ".json_schema", field + ".json_schema is required");
    holder = read_object(inner, field + ".json_schema");
    where += ".json_schema";
  }
  element schema;
  if (holder["schema"].get(schema)) throw invalid_request(where + ".schema", where + ".schema is required");
  set_constraint(out, {"json_schema", schema_text(schema, where + ".schema")}, where + ".schema");
}

void read_structured_outputs(element v, GenerationParams& out) {
  for (auto [key, value] : read_object(v, "structured_outputs")) {
    if (value.is_null()) continue;
    const std::string field = "structured_outputs." + std::string(key);
    if (key == "json") set_constraint(out, {"json_schema", schema_text(value, field)}, field);
    else if (key == "regex") set_constraint(out, {"regex", read_string(value, field, 1 << 20)}, field);
    else if (key == "choice") set_constraint(out, {"choice", choice_text(value, field)}, field);
    else if (key == "grammar") set_constraint(out, {"grammar", read_string(value, field, 1 << 20)}, field);
    else if (key == "json_object") { if (read_bool(value, field)) set_constraint(out, {"json_object", ""}, field); }
    else throw invalid_request(field, field + " is not supported (json, regex, choice, grammar, json_object)");
  }
}

}  // namespace

bool read_structured_output_field(std::string_view key, element v, GenerationParams& out) {
  const std::string field(key);
  if (key == "response_format") read_format(read_object(v, field), field, true, out);
  else if (key == "guided_json") set_constraint(out, {"json_schema", schema_text(v, field)}, field);
  else if (key == "guided_regex") set_constraint(out, {"regex", read_string(v, field, 1 << 20)}, field);
  else if (key == "guided_choice") set_constraint(out, {"choice", choice_text(v, field)}, field);
  else if (key == "guided_grammar") set_constraint(out, {"grammar", read_string(v, field, 1 << 20)}, field);
  else if (key == "structured_outputs") read_structured_outputs(v, out);
  else return false;
  return true;
}

void read_text_format(element text, GenerationParams& out) {
  element format;
  if (read_object(text, "text")["format"].get(format)) return;
  read_format(read_object(format, "text.format"), "text.format", false, out);
}

}  // namespace pagedserve::net
