// jinja2's filters that chat templates use, with jinja2 3.1's behaviour
// (map, select and friends give generators: true, one pass, no length).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "jinja/builtins.hpp"
#include "jinja/interpreter.hpp"
#include "jinja/operators.hpp"
#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, const Args&, const Kwargs&);

// A filter's argument by position or keyword; undefined when not given.
Value arg(const Args& a, const Kwargs& kw, std::size_t pos, const char* name) {
  for (const auto& [k, v] : kw)
    if (k == name) return v;
  return pos < a.size() ? a[pos] : Value();
}

std::string text_of(const Value& v) { return v.str(); }

Value generator(List items) { return Value::list(std::move(items), Value::Seq::generator); }

// jinja2 reads an attribute argument as a dotted path, integer parts as indexes.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    v = v.is_undefined() ? Value() : digits ? get_item(v, Value(static_cast<std::int64_t>(std::stoll(part)))) : get_item(v, Value(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

Value f_tojson(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  static const char* const names[] = {"ensure_ascii", "indent", "separators", "sort_keys"};
  if (a.size() > 4) throw RenderError("tojson takes at most four arguments");
  Kwargs options = kw;
  for (std::size_t i = 0; i < a.size(); ++i) options.emplace_back(names[i], a[i]);
  return Value(to_json(v, options));
}

Value f_trim(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  const Value chars = arg(a, kw, 0, "chars");
  return Value(pystr::strip(text_of(v), chars.is_string() ? std::optional(chars.as_string()) : std::nullopt, true, true));
}

Value f_length(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  if (v.is_undefined()) return Value(0);
  if (v.is_string()) return Value(static_cast<std::int64_t>(pystr::length(v.as_string())));
  if (v.is_list() && v.seq() != Value::Seq::generator) return Value(static_cast<std::int64_t>(v.as_list().size()));
  if (v.is_dict() && !v.is_namespace()) return Value(static_cast<std::int64_t>(v.as_dict().size()));
  throw RenderError("object of type '" + v.type_name() + "' has no len()");
}

Value f_first(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  const List items = iterate(v);
  return items.empty() ? Value() : items.front();
}

Value f_last(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  if (v.is_list() && v.seq() == Value::Seq::generator) throw RenderError("'generator' object is not reversible");
  const List items = iterate(v);
  return items.empty() ? Value() : items.back();
}

Value f_join(Interpreter& in, const Value& v, const Args& a, const Kwargs& kw) {
  const Value sep = arg(a, kw, 0, "d"), attribute = arg(a, kw, 1, "attribute");
  std::string out;
  bool first = true;
  for (const auto& item : iterate(v)) {
    if (!first) out += sep.is_undefined() ? "" : text_of(sep);
    out += text_of(attribute.is_undefined() ? item : attribute_path(item, attribute.str()));
    in.check_size(out.size());
    first = false;
  }
  return Value(out);
}

Value f_default(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  const bool boolean = arg(a, kw, 1, "boolean").truthy();
  if (v.is_undefined() || (boolean && !v.truthy())) {
    const Value d = arg(a, kw, 0, "default_value");
    return d.is_undefined() ? Value(std::string()) : d;
  }
  return v;
}

Value mapped(std::optional<std::string> s, const char* filter) {
  if (!s) throw RenderError(std::string("the ") + filter + " filter of text with non-ASCII letters is not supported");
  return Value(*s);
}

Value f_upper(Interpreter&, const Value& v, const Args&, const Kwargs&) { return mapped(pystr::upper(text_of(v)), "upper"); }
Value f_lower(Interpreter&, const Value& v, const Args&, const Kwargs&) { return mapped(pystr::lower(text_of(v)), "lower"); }
Value f_capitalize(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  return mapped(pystr::capitalize(text_of(v)), "capitalize");
}

// jinja2's title filter: each word's first letter upper, the rest lower,
// words split at whitespace and any of -({[<.
Value f_title(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  std::string out;
  bool word_start = true;
  for (char32_t c : pystr::decode(text_of(v))) {
    const std::string ch = pystr::encode(std::u32string(1, c));
    const bool boundary = pystr::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    out += boundary ? ch : mapped(word_start ? pystr::upper(ch) : pystr::lower(ch), "title").as_string();
    word_start = boundary;
  }
  return Value(out);
}

Value f_replace(Interpreter& in, const Value& v, const Args& a, const Kwargs& kw) {
  const Value from = arg(a, kw, 0, "old"), to = arg(a, kw, 1, "new"), count = arg(a, kw, 2, "count");
  std::string out = pystr::replace(text_of(v), text_of(from), text_of(to), count.is_int() ? count.as_int() : -1);
  in.check_size(out.size());
  return Value(out);
}

Value f_string(Interpreter&, const Value& v, const Args&, const Kwargs&) { return Value(text_of(v)); }

Value f_int(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  const Value fallback = arg(a, kw, 0, "default").is_undefined() ? Value(0) : arg(a, kw, 0, "default");
  if (v.is_int()) return Value(v.as_int());
  if (v.kind() == Value::Kind::floating) return std::isfinite(v.as_double()) ? Value(static_cast<std::int64_t>(v.as_double())) : fallback;
  if (!v.is_string()) return fallback;
  const std::string s = pystr::strip(v.as_string(), std::nullopt, true, true);
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && *end == '\0' && errno == 0 && s.find_first_of("xX") == std::string::npos) return Value(static_cast<std::int64_t>(i));
  const double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0' && std::isfinite(d) && s.find_first_of("xXpP") == std::string::npos)
    return Value(static_cast<std::int64_t>(d));
  return fallback;
}

Value f_float(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  const Value fallback = arg(a, kw, 0, "default").is_undefined() ? Value(0.0) : arg(a, kw, 0, "default");
  if (v.is_number()) return Value(v.as_double());
  if (!v.is_string()) return fallback;
  const std::string s = pystr::strip(v.as_string(), std::nullopt, true, true);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || s.find_first_of("xXpP") != std::string::npos) return fallback;
  return Value(d);
}

Value f_list(Interpreter&, const Value& v, const Args&, const Kwargs&) { return Value::list(iterate(v)); }

Value f_items(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  if (v.is_undefined()) return generator({});
  if (!v.is_dict() || v.is_namespace()) throw RenderError("the items filter needs a mapping, not " + v.type_name());
  List out;
  for (const auto& [k, x] : v.as_dict()) out.push_back(Value::list({Value(k), x}, Value::Seq::tuple));
  return generator(std::move(out));
}

Value f_map(Interpreter& in, const Value& v, const Args& a, const Kwargs& kw) {
  List out;
  const Value attribute = arg(Args{}, kw, 0, "attribute");
  if (!attribute.is_undefined()) {
    const Value fallback = arg(Args{}, kw, 0, "default");
    for (const auto& item : iterate(v)) {
      Value x = attribute_path(item, attribute.str());
      out.push_back(x.is_undefined() && !fallback.is_undefined() ? fallback : x);
    }
    return generator(std::move(out));
  }
  if (a.empty() || !a[0].is_string()) throw RenderError("map needs attribute= or a filter name");
  const std::string filter = a[0].as_string();
  if (!is_filter(filter)) throw RenderError("map: the filter '" + filter + "' is not supported");
  const Args rest(a.begin() + 1, a.end());
  for (const auto& item : iterate(v)) out.push_back(apply_filter(in, filter, item, rest, kw));
  return generator(std::move(out));
}

// select/reject/selectattr/rejectattr: keep items whose test (or, without
// one, truth) is `keep`.
Value filter_items(Interpreter& in, const Value& v, const Args& a, bool by_attribute, bool keep) {
  std::size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (a.empty() || !a[0].is_string()) throw RenderError("selectattr/rejectattr need an attribute name");
    attribute = a[next++].as_string();
  }
  std::string test;
  if (next < a.size()) {
    if (!a[next].is_string()) throw RenderError("select: the test name must be a string");
    test = a[next++].as_string();
    if (!is_test(test)) throw RenderError("select: the test '" + test + "' is not supported");
  }
  const Args test_args(a.begin() + static_cast<std::ptrdiff_t>(next), a.end());
  List out;
  for (const auto& item : iterate(v)) {
    const Value x = by_attribute ? attribute_path(item, attribute) : item;
    const bool passed = test.empty() ? x.truthy() : apply_test(in, test, x, test_args);
    if (passed == keep) out.push_back(item);
  }
  return generator(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, const Args& a, const Kwargs&) { return filter_items(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, const Args& a, const Kwargs&) { return filter_items(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, const Args& a, const Kwargs&) { return filter_items(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, const Args& a, const Kwargs&) { return filter_items(in, v, a, true, false); }

Value f_indent(Interpreter& in, const Value& v, const Args& a, const Kwargs& kw) {
  const Value width = arg(a, kw, 0, "width");
  const std::string pad = width.is_string() ? width.as_string() : std::string(width.is_int() ? std::max<std::int64_t>(width.as_int(), 0) : 4, ' ');
  const bool first = arg(a, kw, 1, "first").truthy(), blank = arg(a, kw, 2, "blank").truthy();
  const std::vector<std::string> lines = pystr::splitlines(text_of(v) + "\n");
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n" + ((blank || !lines[i].empty()) ? pad : "");
    out += lines[i];
    in.check_size(out.size());
  }
  return Value(first ? pad + out : out);
}

Value f_safe(Interpreter&, const Value& v, const Args&, const Kwargs&) { return v; }

Value f_escape(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  std::string out;
  for (char c : text_of(v)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return Value(out);
}

Value f_round(Interpreter&, const Value& v, const Args& a, const Kwargs& kw) {
  const Value precision = arg(a, kw, 0, "precision"), method = arg(a, kw, 1, "method");
  const std::int64_t digits = precision.is_int() ? precision.as_int() : 0;
  const std::string how = method.is_string() ? method.as_string() : "common";
  if (!v.is_number()) throw RenderError("round needs a number, not " + v.type_name());
  if (how != "common") {
    if (how != "ceil" && how != "floor") throw RenderError("round: method must be common, ceil or floor");
    const double scale = std::pow(10.0, static_cast<double>(digits));
    return Value((how == "ceil" ? std::ceil(v.as_double() * scale) : std::floor(v.as_double() * scale)) / scale);
  }
  if (v.is_int()) return Value(v.as_int());  // Python's round(int, n) is the int itself for n >= 0
  if (digits < 0 || digits > 300) throw RenderError("round: precision out of range here");
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(digits), v.as_double());  // correctly rounded, half to even
  return Value(std::strtod(buf, nullptr));
}

Value f_abs(Interpreter&, const Value& v, const Args&, const Kwargs&) {
  if (v.is_int()) return v.as_int() < 0 ? unary_op("-", v) : Value(v.as_int());
  if (v.is_number()) return Value(std::fabs(v.as_double()));
  throw RenderError("bad operand type for abs(): '" + v.type_name() + "'");
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> table = {
      {"tojson", f_tojson},   {"trim", f_trim},           {"length", f_length},         {"count", f_length},
      {"first", f_first},     {"last", f_last},           {"join", f_join},             {"default", f_default},
      {"d", f_default},       {"upper", f_upper},         {"lower", f_lower},           {"capitalize", f_capitalize},
      {"title", f_title},     {"replace", f_replace},     {"string", f_string},         {"int", f_int},
      {"float", f_float},     {"list", f_list},           {"items", f_items},           {"map", f_map},
      {"select", f_select},   {"reject", f_reject},       {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr},
      {"indent", f_indent},   {"safe", f_safe},           {"escape", f_escape},         {"e", f_escape},
      {"round", f_round},     {"abs", f_abs},
  };
  return table;
}

}  // namespace

bool is_filter(const std::string& name) { return filters().count(name) > 0; }

Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, const Args& args,
                   const Kwargs& kwargs) {
  in.step();
  return filters().at(name)(in, operand, args, kwargs);
}

}  // namespace pagedserve::jinja
