#include "jinja/value.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

Value Value::none() {
  Value v;
  v.kind_ = Kind::none;
  return v;
}

Value::Value(bool b) : kind_(Kind::boolean), int_(b ? 1 : 0) {}
Value::Value(std::int64_t i) : kind_(Kind::integer), int_(i) {}
Value::Value(double d) : kind_(Kind::floating), float_(d) {}
Value::Value(std::string s) : kind_(Kind::string), string_(std::make_shared<const std::string>(std::move(s))) {}

Value Value::list(List items, Seq seq) {
  Value v;
  v.kind_ = Kind::list;
  v.seq_ = seq;
  v.list_ = std::make_shared<const List>(std::move(items));
  if (seq == Seq::generator) v.used_ = std::make_shared<bool>(false);
  return v;
}

List Value::take_items() const {
  if (seq_ != Seq::generator) return *list_;
  if (*used_) return {};
  *used_ = true;
  return *list_;
}

Value Value::dict(Dict entries, bool is_namespace) {
  Value v;
  v.kind_ = Kind::dict;
  v.namespace_ = is_namespace;
  v.dict_ = std::make_shared<Dict>(std::move(entries));
  return v;
}

Value Value::function(std::string name, Function f) {
  Value v;
  v.kind_ = Kind::function;
  v.string_ = std::make_shared<const std::string>(std::move(name));
  v.function_ = std::make_shared<const Function>(std::move(f));
  return v;
}

Value Value::get(const std::string& key) const {
  if (!is_dict()) return {};
  for (const auto& [k, v] : *dict_)
    if (k == key) return v;
  return {};
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::undefined:
    case Kind::none: return false;
    case Kind::boolean:
    case Kind::integer: return int_ != 0;
    case Kind::floating: return float_ != 0;
    case Kind::string: return !string_->empty();
    case Kind::list: return seq_ == Seq::generator || !list_->empty();  // a generator object is always true
    case Kind::dict: return namespace_ || !dict_->empty();
    case Kind::function: return true;
  }
  return false;
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf is d.ddde±XX with `precision` significant digits; Python writes
  // positional notation for exponents from -4 to 15.
  const std::string sci = buf;
  const auto e_pos = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e_pos + 1);
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c >= '0' && c <= '9') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const std::string sign = d < 0 || (d == 0 && std::signbit(d)) ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    std::string mantissa = digits.substr(0, 1);
    if (digits.size() > 1) mantissa += "." + digits.substr(1);
    std::snprintf(buf, sizeof buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return sign + mantissa + buf;
  }
  if (exponent < 0) return sign + "0." + std::string(-exponent - 1, '0') + digits;
  const std::size_t int_digits = exponent + 1;
  if (digits.size() <= int_digits) return sign + digits + std::string(int_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::undefined: return "";
    case Kind::string: return *string_;
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "None";
    case Kind::boolean: return int_ ? "True" : "False";
    case Kind::integer: return std::to_string(int_);
    case Kind::floating: return python_float_repr(float_);
    case Kind::string: return pystr::repr(*string_);
    case Kind::function: throw RenderError("printing the function " + *string_ + " is not supported (Python prints its address)");
    case Kind::list: {
      if (seq_ == Seq::generator || seq_ == Seq::view)
        throw RenderError("printing a " + type_name() + " is not supported (Python prints its address)");
      const bool tuple = seq_ == Seq::tuple;
      std::string out = tuple ? "(" : "[";
      for (std::size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].repr();
      if (tuple && list_->size() == 1) out += ",";
      return out + (tuple ? ")" : "]");
    }
    case Kind::dict: {
      std::string out = namespace_ ? "<Namespace {" : "{";
      for (std::size_t i = 0; i < dict_->size(); ++i)
        out += (i ? ", " : "") + pystr::repr((*dict_)[i].first) + ": " + (*dict_)[i].second.repr();
      return out + (namespace_ ? "}>" : "}");
    }
  }
  return "";
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::list: return seq_ == Seq::tuple ? "tuple" : seq_ == Seq::list ? "list" : seq_ == Seq::view ? "dict view" : "generator";
    case Kind::dict: return namespace_ ? "Namespace" : "dict";
    case Kind::function: return "function";
  }
  return "";
}

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return true;
    case Value::Kind::string: return a.as_string() == b.as_string();
    case Value::Kind::list: {
      if (a.seq() != b.seq() || a.seq() == Value::Seq::generator || a.as_list().size() != b.as_list().size())
        return false;
      for (std::size_t i = 0; i < a.as_list().size(); ++i)
        if (!equal(a.as_list()[i], b.as_list()[i])) return false;
      return true;
    }
    case Value::Kind::dict: {
      if (a.is_namespace() || b.is_namespace()) return &a.namespace_entries() == &b.namespace_entries();
      if (a.as_dict().size() != b.as_dict().size()) return false;
      for (const auto& [k, v] : a.as_dict()) {
        const Value other = b.get(k);
        if (other.is_undefined() || !equal(v, other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

List iterate(const Value& v) {
  if (v.is_undefined()) return {};
  if (v.is_list()) return v.take_items();
  if (v.is_dict() && !v.is_namespace()) {
    List keys;
    for (const auto& [k, _] : v.as_dict()) keys.emplace_back(k);
    return keys;
  }
  if (v.is_string()) {
    List chars;
    for (char32_t c : pystr::decode(v.as_string())) chars.emplace_back(pystr::encode(std::u32string(1, c)));
    return chars;
  }
  throw RenderError("'" + v.type_name() + "' object is not iterable");
}

}  // namespace pagedserve::jinja
