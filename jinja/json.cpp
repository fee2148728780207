// tojson as Hugging Face defines it for chat templates: Python's
// json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
// sort_keys=sort_keys), not jinja2's HTML-escaping tojson.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "jinja/builtins.hpp"

namespace pagedserve::jinja {

namespace {

struct JsonStyle {
  std::string indent;  // "": one line
  bool multiline = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
};

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void dump(const Value& v, const JsonStyle& style, int depth, std::string& out);

void newline(const JsonStyle& style, int depth, std::string& out) {
  if (!style.multiline) return;
  out += '\n';
  for (int i = 0; i < depth; ++i) out += style.indent;
}

void dump_list(const List& items, const JsonStyle& style, int depth, std::string& out) {
  if (items.empty()) return void(out += "[]");
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += style.item_separator;
    newline(style, depth + 1, out);
    dump(items[i], style, depth + 1, out);
  }
  newline(style, depth, out);
  out += ']';
}

void dump_dict(Dict entries, const JsonStyle& style, int depth, std::string& out) {
  if (entries.empty()) return void(out += "{}");
  if (style.sort_keys)
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out += '{';
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i) out += style.item_separator;
    newline(style, depth + 1, out);
    out += quoted(entries[i].first) + style.key_separator;
    dump(entries[i].second, style, depth + 1, out);
  }
  newline(style, depth, out);
  out += '}';
}

void dump(const Value& v, const JsonStyle& style, int depth, std::string& out) {
  if (depth > 200) throw RenderError("tojson: value nested too deeply");
  switch (v.kind()) {
    case Value::Kind::none: out += "null"; return;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return;
    case Value::Kind::floating: {
      const double d = v.as_double();
      out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : python_float_repr(d);
      return;
    }
    case Value::Kind::string: out += quoted(v.as_string()); return;
    case Value::Kind::list:
      if (v.seq() == Value::Seq::generator || v.seq() == Value::Seq::view)
        throw RenderError("tojson: a " + v.type_name() + " is not JSON serializable");
      return dump_list(v.as_list(), style, depth, out);
    case Value::Kind::dict:
      if (v.is_namespace()) throw RenderError("tojson: a namespace is not JSON serializable");
      return dump_dict(v.as_dict(), style, depth, out);
    default: throw RenderError("tojson: an object of type " + v.type_name() + " is not JSON serializable");
  }
}

JsonStyle style_from(const Kwargs& options) {
  JsonStyle style;
  for (const auto& [k, v] : options) {
    if (k == "indent" && !v.is_none()) {
      if (!v.is_int() && !v.is_string()) throw RenderError("tojson: indent must be an integer or a string");
      style.multiline = true;
      style.indent = v.is_string() ? v.as_string() : std::string(std::max<std::int64_t>(v.as_int(), 0), ' ');
      style.item_separator = ",";
    } else if (k == "separators" && !v.is_none()) {
      if (!v.is_list() || v.as_list().size() != 2 || !v.as_list()[0].is_string() || !v.as_list()[1].is_string())
        throw RenderError("tojson: separators must be two strings");
      style.item_separator = v.as_list()[0].as_string();
      style.key_separator = v.as_list()[1].as_string();
    } else if (k == "sort_keys") {
      style.sort_keys = v.truthy();
    } else if (k == "ensure_ascii") {
      if (v.truthy()) throw RenderError("tojson: ensure_ascii=True is not supported");
    } else if (k != "indent" && k != "separators") {
      throw RenderError("tojson: unknown argument '" + k + "'");
    }
  }
  return style;
}

}  // namespace

std::string to_json(const Value& v, const Kwargs& options) {
  // Keyword order does not matter; separators given explicitly win over
  // indent's default, as json.dumps applies them.
  Kwargs ordered;
  for (const auto& kw : options)
    if (kw.first != "separators") ordered.push_back(kw);
  for (const auto& kw : options)
    if (kw.first == "separators") ordered.push_back(kw);
  std::string out;
  dump(v, style_from(ordered), 0, out);
  return out;
}

}  // namespace pagedserve::jinja
