#include "grammar/json_schema.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <simdjson.h>

#include "grammar/json_values.hpp"
#include "grammar/regex.hpp"

namespace pagedserve::grammar {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const std::set<std::string_view> kAnnotations = {"title",   "description", "default",  "examples", "$schema",
                                                 "$id",     "$comment",    "deprecated", "readOnly", "writeOnly",
                                                 "$defs",   "definitions", "strict"};
const std::set<std::string_view> kSupported = {"type",      "enum",     "const",    "properties", "required",
                                               "additionalProperties", "items", "minItems", "maxItems", "minLength",
                                               "maxLength", "pattern",  "$ref",     "anyOf",      "oneOf",
                                               "allOf",     "nullable"};

int count_of(element value, const std::string& where) {
  std::int64_t n = 0;
  if (value.get_int64().get(n) || n < 0 || n > 10000)
    throw GrammarError(where + " must be a whole number from 0 to 10000");
  return static_cast<int>(n);
}

class SchemaConverter {
 public:
  explicit SchemaConverter(element root) : root_(root) { json::add_value_rules(out_); }

  Rules run() {
    out_.rules["root"] = convert(root_, "#");
    return std::move(out_);
  }

 private:
  Expr convert(element schema, const std::string& path) {
    bool b = false;
    if (!schema.get_bool().get(b)) {
      if (!b) throw GrammarError("the schema at " + path + " is false: it accepts no value");
      return rule("json-value");
    }
    simdjson::dom::object obj;
    if (schema.get_object().get(obj)) throw GrammarError("the schema at " + path + " must be an object or a boolean");
    bool has_validation = false;
    for (auto field : obj) {
      if (kAnnotations.count(field.key)) continue;
      if (!kSupported.count(field.key))
        throw GrammarError("unsupported JSON Schema keyword '" + std::string(field.key) + "' at " + path);
      has_validation = true;
    }
    if (!has_validation) return rule("json-value");
    Expr e = convert_object_schema(obj, path);
    bool nullable = false;
    if (element n; !obj["nullable"].get(n) && !n.get_bool().get(nullable) && nullable)
      e = alternatives({std::move(e), literal("null")});
    return e;
  }

  Expr convert_object_schema(simdjson::dom::object obj, const std::string& path) {
    element v;
    if (!obj["$ref"].get(v)) return reference(v, path);
    if (!obj["const"].get(v)) return literal(simdjson::to_string(v));
    if (!obj["enum"].get(v)) return enumeration(v, path);
    for (const char* key : {"anyOf", "oneOf", "allOf"})
      if (!obj[key].get(v)) return combination(key, v, path);
    return typed(obj, path);
  }

  Expr reference(element ref, const std::string& path) {
    std::string_view target;
    if (ref.get_string().get(target) || target.empty() || target[0] != '#')
      throw GrammarError("$ref at " + path + " must be a local reference starting with '#'");
    const std::string key(target);
    if (auto it = ref_rules_.find(key); it != ref_rules_.end()) return rule(it->second);
    element resolved;
    if (root_.at_pointer(target.substr(1)).get(resolved))
      throw GrammarError("$ref at " + path + " points nowhere: " + key);
    const std::string name = "ref" + std::to_string(ref_rules_.size());
    ref_rules_[key] = name;
    out_.rules[name] = convert(resolved, key);
    return rule(name);
  }

  Expr enumeration(element values, const std::string& path) {
    simdjson::dom::array arr;
    if (values.get_array().get(arr) || arr.size() == 0) throw GrammarError("enum at " + path + " must be a non-empty array");
    std::vector<Expr> alts;
    for (element item : arr) alts.push_back(literal(simdjson::to_string(item)));
    return alternatives(std::move(alts));
  }

  Expr combination(const std::string& key, element branches, const std::string& path) {
    simdjson::dom::array arr;
    if (branches.get_array().get(arr) || arr.size() == 0) throw GrammarError(key + " at " + path + " must be a non-empty array");
    if (key == "allOf" && arr.size() != 1) throw GrammarError("allOf with more than one schema is not supported (at " + path + ")");
    std::vector<Expr> alts;
    std::size_t i = 0;
    for (element branch : arr) alts.push_back(convert(branch, path + "/" + key + "/" + std::to_string(i++)));
    return alternatives(std::move(alts));
  }

  // The type(s) named, or the one the keywords imply, or any value.
  Expr typed(simdjson::dom::object obj, const std::string& path) {
    std::vector<std::string_view> types;
    element t;
    if (!obj["type"].get(t)) {
      std::string_view one;
      simdjson::dom::array many;
      if (!t.get_string().get(one)) types.push_back(one);
      else if (!t.get_array().get(many))
        for (element x : many) {
          if (x.get_string().get(one)) throw GrammarError("type at " + path + " must hold strings");
          types.push_back(one);
        }
      else throw GrammarError("type at " + path + " must be a string or an array of strings");
    } else {
      types.push_back(implied_type(obj));
    }
    std::vector<Expr> alts;
    for (std::string_view type : types) alts.push_back(of_type(type, obj, path));
    if (alts.empty()) throw GrammarError("type at " + path + " lists no type");
    return alternatives(std::move(alts));
  }

  static std::string_view implied_type(simdjson::dom::object obj) {
    element v;
    for (const char* k : {"properties", "required", "additionalProperties"})
      if (!obj[k].get(v)) return "object";
    for (const char* k : {"items", "minItems", "maxItems"})
      if (!obj[k].get(v)) return "array";
    for (const char* k : {"minLength", "maxLength", "pattern"})
      if (!obj[k].get(v)) return "string";
    return "any";
  }

  Expr of_type(std::string_view type, simdjson::dom::object obj, const std::string& path) {
    if (type == "null") return literal("null");
    if (type == "boolean") return alternatives({literal("true"), literal("false")});
    if (type == "integer") return rule("json-integer");
    if (type == "number") return rule("json-number");
    if (type == "string") return string_of(obj, path);
    if (type == "array") return array_of(obj, path);
    if (type == "object") return object_of(obj, path);
    if (type == "any") return rule("json-value");
    throw GrammarError("unknown type '" + std::string(type) + "' at " + path);
  }

  Expr string_of(simdjson::dom::object obj, const std::string& path) {
    element v;
    int min = 0, max = -1;
    if (!obj["minLength"].get(v)) min = count_of(v, "minLength at " + path);
    if (!obj["maxLength"].get(v)) max = count_of(v, "maxLength at " + path);
    if (max >= 0 && max < min) throw GrammarError("maxLength is below minLength at " + path);
    if (!obj["pattern"].get(v)) {
      if (min != 0 || max != -1) throw GrammarError("pattern together with minLength/maxLength is not supported (at " + path + ")");
      return pattern(v, path);
    }
    return sequence({literal("\""), repeat(rule("json-char"), min, max), literal("\"")});
  }

  // A JSON Schema pattern matches anywhere in the string unless anchored.
  Expr pattern(element v, const std::string& path) {
    std::string_view text;
    if (v.get_string().get(text)) throw GrammarError("pattern at " + path + " must be a string");
    CodepointSet escaped = json::plain_chars().complement();
    ParsedRegex re;
    try {
      re = parse_regex(text, escaped);
    } catch (const GrammarError& e) {
      throw GrammarError("pattern at " + path + ": " + e.what());
    }
    const Expr any = repeat(rule("json-plain-char"), 0, -1);
    std::vector<Expr> parts{literal("\"")};
    if (!re.anchored_start) parts.push_back(any);
    parts.push_back(std::move(re.expr));
    if (!re.anchored_end) parts.push_back(any);
    parts.push_back(literal("\""));
    return sequence(std::move(parts));
  }

  // A sub-schema as a named rule, so that using it twice lowers it once.
  Expr named(Expr e) {
    const std::string name = "s" + std::to_string(next_rule_++);
    out_.rules[name] = std::move(e);
    return rule(name);
  }

  Expr array_of(simdjson::dom::object obj, const std::string& path) {
    element v;
    int min = 0, max = -1;
    if (!obj["minItems"].get(v)) min = count_of(v, "minItems at " + path);
    if (!obj["maxItems"].get(v)) max = count_of(v, "maxItems at " + path);
    if (max >= 0 && max < min) throw GrammarError("maxItems is below minItems at " + path);
    if (max == 0) return literal("[]");
    const Expr item = obj["items"].get(v) ? rule("json-value") : named(convert(v, path + "/items"));
    const Expr more = repeat(sequence({rule("comma"), item}), std::max(min - 1, 0), max < 0 ? -1 : max - 1);
    Expr body = sequence({item, more});
    return sequence({literal("["), min == 0 ? optional(std::move(body)) : std::move(body), literal("]")});
  }

  struct Property {
    std::string name;
    Expr value;
    bool required = false;
  };

  Expr object_of(simdjson::dom::object obj, const std::string& path) {
    std::vector<Property> props = properties(obj, path);
    element extra;
    const bool has_extra = !obj["additionalProperties"].get(extra);
    bool extra_allowed = false;
    Expr extra_value = rule("json-value");
    if (has_extra) {
      if (extra.get_bool().get(extra_allowed)) {
        extra_allowed = true;
        extra_value = named(convert(extra, path + "/additionalProperties"));
      }
    } else {
      extra_allowed = props.empty();  // a bare {"type":"object"}: any object
    }
    return object_body(props, extra_allowed, extra_value);
  }

  std::vector<Property> properties(simdjson::dom::object obj, const std::string& path) {
    std::vector<Property> props;
    simdjson::dom::object listed;
    element v;
    if (!obj["properties"].get(v)) {
      if (v.get_object().get(listed)) throw GrammarError("properties at " + path + " must be an object");
      for (auto field : listed)
        props.push_back({std::string(field.key), convert(field.value, path + "/properties/" + std::string(field.key)), false});
    }
    if (!obj["required"].get(v)) {
      simdjson::dom::array names;
      if (v.get_array().get(names)) throw GrammarError("required at " + path + " must be an array of strings");
      for (element n : names) {
        std::string_view name;
        if (n.get_string().get(name)) throw GrammarError("required at " + path + " must be an array of strings");
        auto it = std::find_if(props.begin(), props.end(), [&](const Property& p) { return p.name == name; });
        if (it == props.end()) props.push_back({std::string(name), rule("json-value"), true});
        else it->required = true;
      }
    }
    return props;
  }

  // Properties in order, each required one present, commas only between:
  //   first[i] : nothing written yet, from property i on
  //   after[i] : something written,   from property i on (each starts ",")
  Expr object_body(const std::vector<Property>& props, bool extra_allowed, const Expr& extra_value) {
    const std::string id = std::to_string(next_rule_++);
    auto first = [&](std::size_t i) { return "obj" + id + "-first" + std::to_string(i); };
    auto after = [&](std::size_t i) { return "obj" + id + "-after" + std::to_string(i); };
    const std::size_t n = props.size();
    const Expr extra_member = sequence({extra_key(props), rule("colon"), extra_value});
    const Expr more_extra = repeat(sequence({rule("comma"), extra_member}), 0, -1);
    out_.rules[after(n)] = extra_allowed ? more_extra : empty();
    out_.rules[first(n)] = extra_allowed ? optional(sequence({extra_member, more_extra})) : empty();
    for (std::size_t i = n; i-- > 0;) {
      const Expr member = named(sequence({literal(json::quote(props[i].name)), rule("colon"), props[i].value}));
      Expr take_first = sequence({member, rule(after(i + 1))});
      Expr take_after = sequence({rule("comma"), member, rule(after(i + 1))});
      out_.rules[first(i)] = props[i].required ? std::move(take_first) : alternatives({std::move(take_first), rule(first(i + 1))});
      out_.rules[after(i)] = props[i].required ? std::move(take_after) : alternatives({std::move(take_after), rule(after(i + 1))});
    }
    return sequence({literal("{"), rule(first(0)), literal("}")});
  }

  // A key that is none of the listed names: spelled without escapes, so
  // no escape can spell a listed name either. Built over the names' trie.
  Expr extra_key(const std::vector<Property>& props) {
    std::set<std::string> names;
    for (const Property& p : props) names.insert(p.name);
    return sequence({literal("\""), not_in(names, ""), literal("\"")});
  }

  Expr not_in(const std::set<std::string>& names, const std::string& prefix) {
    const Expr any = repeat(rule("json-plain-char"), 0, -1);
    std::map<unsigned char, bool> next;  // next byte of a name with this prefix
    bool is_name = false;
    for (const std::string& n : names) {
      if (n.compare(0, prefix.size(), prefix) != 0) continue;
      if (n.size() == prefix.size()) is_name = true;
      else next[static_cast<unsigned char>(n[prefix.size()])] = true;
    }
    std::vector<Expr> alts;
    if (!is_name) alts.push_back(empty());
    CodepointSet other = json::plain_chars();
    CodepointSet taken;
    for (const auto& [byte, _] : next) {
      taken.add(byte, byte);
      // Past a non-ASCII byte the trie would split characters: simpler to
      // leave every non-ASCII character out at this position.
      if (byte >= 0x80) taken.add(0x80, kMaxCodepoint);
    }
    taken.normalize();
    alts.push_back(sequence({chars(other.without(taken)), any}));
    for (const auto& [byte, _] : next)
      if (byte < 0x80) alts.push_back(sequence({literal(std::string(1, static_cast<char>(byte))), not_in(names, prefix + static_cast<char>(byte))}));
    return alternatives(std::move(alts));
  }

  element root_;
  Rules out_;
  std::map<std::string, std::string> ref_rules_;
  int next_rule_ = 0;
};

}  // namespace

Rules json_schema_rules(std::string_view schema_json) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(schema_json.data(), schema_json.size()).get(root)) throw GrammarError("the schema is not valid JSON");
  return SchemaConverter(root).run();
}

Rules json_object_rules() {
  Rules r;
  json::add_value_rules(r);
  r.rules["root"] = rule("json-object");
  return r;
}

}  // namespace pagedserve::grammar
