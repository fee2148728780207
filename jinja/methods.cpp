// Attribute and item access, and the methods of str and dict that chat
// templates call. Python looks an attribute up before a key (so a dict's
// `.items` is its method even when it has an "items" key), a subscript the
// other way round; jinja2 answers undefined where both fail.
#include <set>

#include "jinja/builtins.hpp"
#include "jinja/operators.hpp"
#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

namespace {

const std::set<std::string> kStrMethods = {"strip",   "lstrip",     "rstrip", "split",      "rsplit",  "splitlines",
                                           "startswith", "endswith", "replace", "upper",     "lower",   "title",
                                           "capitalize", "find",     "count",   "join",      "isdigit", "isspace"};
const std::set<std::string> kDictMethods = {"items", "keys", "values", "get"};
// Attributes Python objects have that templates must not reach through the
// immutable sandbox (they mutate), or this engine does not implement.
const std::set<std::string> kRefusedDictAttributes = {"pop", "popitem", "update", "setdefault", "clear", "copy", "fromkeys"};
const std::set<std::string> kRefusedListAttributes = {"append", "extend", "insert", "pop", "remove", "reverse",
                                                      "sort",   "clear",  "copy",   "index", "count"};

std::optional<std::string> optional_string(const Args& a, std::size_t i, const char* method) {
  if (i >= a.size() || a[i].is_none()) return std::nullopt;
  if (!a[i].is_string()) throw RenderError(std::string(method) + "() arguments must be strings");
  return a[i].as_string();
}

const std::string& string_arg(const Args& a, std::size_t i, const char* method) {
  if (i >= a.size() || !a[i].is_string()) throw RenderError(std::string(method) + "() needs a string argument");
  return a[i].as_string();
}

Value case_mapped(std::optional<std::string> s, const std::string& method) {
  if (!s) throw RenderError("str." + method + "() of text with non-ASCII letters is not supported");
  return Value(*s);
}

List strings(const std::vector<std::string>& parts) {
  List out;
  for (const auto& p : parts) out.emplace_back(p);
  return out;
}

// s.startswith(prefix) where prefix may be a tuple of strings.
bool affix_matches(const std::string& s, const Value& affix, bool prefix) {
  if (affix.is_list()) {
    for (const auto& a : affix.as_list())
      if (affix_matches(s, a, prefix)) return true;
    return false;
  }
  if (!affix.is_string()) throw RenderError("startswith/endswith take a string or a tuple of strings");
  const std::string& x = affix.as_string();
  if (x.size() > s.size()) return false;
  return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
}

Value call_str_method(const std::string& s, const std::string& m, const Args& a) {
  if (m == "strip" || m == "lstrip" || m == "rstrip")
    return Value(pystr::strip(s, optional_string(a, 0, m.c_str()), m != "rstrip", m != "lstrip"));
  if (m == "split") {
    const long maxsplit = a.size() > 1 && a[1].is_int() ? static_cast<long>(a[1].as_int()) : -1;
    const auto sep = optional_string(a, 0, "split");
    if (sep && sep->empty()) throw RenderError("split(): empty separator");
    return Value::list(strings(pystr::split(s, sep, maxsplit)));
  }
  if (m == "rsplit") {
    if (a.size() > 1) throw RenderError("rsplit() with maxsplit is not supported");
    const auto sep = optional_string(a, 0, "rsplit");
    if (sep && sep->empty()) throw RenderError("rsplit(): empty separator");
    return Value::list(strings(pystr::split(s, sep, -1)));
  }
  if (m == "splitlines") return Value::list(strings(pystr::splitlines(s)));
  if (m == "startswith" || m == "endswith") {
    if (a.size() != 1) throw RenderError(m + "() takes one argument here");
    return Value(affix_matches(s, a[0], m == "startswith"));
  }
  if (m == "replace") {
    const long count = a.size() > 2 && a[2].is_int() ? static_cast<long>(a[2].as_int()) : -1;
    return Value(pystr::replace(s, string_arg(a, 0, "replace"), string_arg(a, 1, "replace"), count));
  }
  if (m == "upper") return case_mapped(pystr::upper(s), m);
  if (m == "lower") return case_mapped(pystr::lower(s), m);
  if (m == "title") return case_mapped(pystr::title(s), m);
  if (m == "capitalize") return case_mapped(pystr::capitalize(s), m);
  if (m == "find") {
    const auto at = s.find(string_arg(a, 0, "find"));
    return Value(at == std::string::npos ? std::int64_t{-1} : static_cast<std::int64_t>(pystr::length(s.substr(0, at))));
  }
  if (m == "count") {
    const std::string& x = string_arg(a, 0, "count");
    if (x.empty()) return Value(static_cast<std::int64_t>(pystr::length(s) + 1));
    std::int64_t n = 0;
    for (auto at = s.find(x); at != std::string::npos; at = s.find(x, at + x.size())) ++n;
    return Value(n);
  }
  if (m == "join") {
    if (a.size() != 1) throw RenderError("join() takes one argument");
    std::string out;
    bool first = true;
    for (const auto& item : iterate(a[0])) {
      if (!item.is_string()) throw RenderError("str.join() expects strings, found " + item.type_name());
      out += (first ? "" : s) + item.as_string();
      first = false;
    }
    return Value(out);
  }
  const std::u32string text = pystr::decode(s);
  bool all = !text.empty();
  for (char32_t c : text) all &= m == "isdigit" ? (c >= '0' && c <= '9') : pystr::is_space(c);
  if (m == "isdigit" && !all)
    for (char32_t c : text)
      if (c >= 0x80) throw RenderError("str.isdigit() of non-ASCII text is not supported");
  return Value(all);
}

Value call_dict_method(const Value& d, const std::string& m, const Args& a) {
  if (m == "get") {
    if (a.empty() || a.size() > 2) throw RenderError("get() takes 1 or 2 arguments");
    const Value v = a[0].is_string() ? d.get(a[0].as_string()) : Value();
    return v.is_undefined() ? (a.size() == 2 ? a[1] : Value::none()) : v;
  }
  if (!a.empty()) throw RenderError(m + "() takes no arguments");
  List out;
  for (const auto& [k, v] : d.as_dict()) {
    if (m == "items") out.push_back(Value::list({Value(k), v}, Value::Seq::tuple));
    else out.push_back(m == "keys" ? Value(k) : v);
  }
  return Value::list(std::move(out), Value::Seq::view);
}

Value bound(const Value& obj, const std::string& name) {
  return Value::function(name, [obj, name](const Args& a, const Kwargs& kw) {
    if (!kw.empty()) throw RenderError(name + "() takes no keyword arguments here");
    return obj.is_string() ? call_str_method(obj.as_string(), name, a) : call_dict_method(obj, name, a);
  });
}

Value refused(const std::string& type, const std::string& name) {
  return Value::function(name, [type, name](const Args&, const Kwargs&) -> Value {
    throw RenderError(type + "." + name + "() is not allowed in a chat template (templates cannot change their data)");
  });
}

}  // namespace

bool is_method(const std::string& name) {
  return kStrMethods.count(name) || kDictMethods.count(name) || name == "cycle";
}

Value get_attribute(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) throw RenderError("undefined value has no attribute '" + name + "'");
  if (obj.is_namespace()) return obj.get(name);
  if (obj.is_dict()) {
    if (kDictMethods.count(name)) return bound(obj, name);
    if (kRefusedDictAttributes.count(name)) return refused("dict", name);
    return obj.get(name);
  }
  if (obj.is_string() && kStrMethods.count(name)) return bound(obj, name);
  if (obj.is_list() && kRefusedListAttributes.count(name)) return refused(obj.type_name(), name);
  return {};
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) throw RenderError("undefined value is not subscriptable");
  if (obj.is_dict()) {
    if (key.is_string()) {
      const Value v = obj.get(key.as_string());
      return v.is_undefined() && !obj.is_namespace() ? get_attribute(obj, key.as_string()) : v;
    }
    return {};
  }
  if (key.is_int() && (obj.is_string() || (obj.is_list() && (obj.seq() == Value::Seq::list || obj.is_tuple())))) {
    const Value one = slice_of(obj, key.as_int(), key.as_int() == -1 ? std::nullopt : std::optional(key.as_int() + 1), 1);
    const bool empty = one.is_string() ? one.as_string().empty() : one.as_list().empty();
    if (empty) return {};
    return one.is_string() ? one : one.as_list().front();
  }
  if (key.is_string()) return get_attribute(obj, key.as_string());
  return {};
}

}  // namespace pagedserve::jinja
