#include "jinja/operators.hpp"

#include <algorithm>
#include <cmath>

#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) throw RenderError("an undefined value used with '" + op + "'");
  throw RenderError("unsupported operand types for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
}

void check_overflow(bool overflow) {
  if (overflow) throw RenderError("integer overflow (Python's integers are unbounded, these are 64-bit)");
}

Value integer_op(const std::string& op, std::int64_t x, std::int64_t y) {
  std::int64_t r = 0;
  if (op == "+" || op == "-" || op == "*") {
    check_overflow(op == "+"   ? __builtin_add_overflow(x, y, &r)
                   : op == "-" ? __builtin_sub_overflow(x, y, &r)
                               : __builtin_mul_overflow(x, y, &r));
    return Value(r);
  }
  if (op == "/") {
    if (y == 0) throw RenderError("division by zero");
    return Value(static_cast<double>(x) / static_cast<double>(y));
  }
  if (op == "//" || op == "%") {
    if (y == 0) throw RenderError("integer division or modulo by zero");
    std::int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) --q, m += y;  // Python floors
    return Value(op == "//" ? q : m);
  }
  if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
  std::int64_t result = 1, base = x;  // by squaring: y may be huge when x is 0, 1 or -1
  for (std::int64_t e = y; e > 0; e >>= 1) {
    if (e & 1) check_overflow(__builtin_mul_overflow(result, base, &result));
    if (e > 1) check_overflow(__builtin_mul_overflow(base, base, &base));
  }
  return Value(result);
}

Value float_op(const std::string& op, double x, double y) {
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "**") return Value(std::pow(x, y));
  if (y == 0) throw RenderError("float division by zero");
  if (op == "/") return Value(x / y);
  const double m = std::fmod(x, y);
  const double mod = (m != 0 && ((m < 0) != (y < 0))) ? m + y : m;
  if (op == "%") return Value(mod);
  const double div = (x - mod) / y;  // as CPython's float floor division
  double floor_div = std::floor(div);
  if (div - floor_div > 0.5) floor_div += 1.0;
  return Value(floor_div);
}

Value repeat(const Value& seq, std::int64_t times, std::size_t max_bytes) {
  if (times <= 0) return seq.is_string() ? Value(std::string()) : Value::list({}, seq.seq());
  if (seq.is_string()) {
    if (seq.as_string().size() * static_cast<std::uint64_t>(times) > max_bytes)
      throw RenderError("a repeated string longer than " + std::to_string(max_bytes) + " bytes");
    std::string out;
    for (std::int64_t i = 0; i < times; ++i) out += seq.as_string();
    return Value(out);
  }
  if (seq.as_list().size() * static_cast<std::uint64_t>(times) > max_bytes)
    throw RenderError("a repeated list longer than " + std::to_string(max_bytes) + " items");
  List out;
  for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.as_list().begin(), seq.as_list().end());
  return Value::list(std::move(out), seq.seq());
}

bool plain_sequence(const Value& v) { return v.is_list() && (v.seq() == Value::Seq::list || v.seq() == Value::Seq::tuple); }

// -1, 0, 1 as Python orders a and b; throws where Python cannot.
int order(const Value& a, const Value& b, const std::string& op) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string() ? -1 : a.as_string() > b.as_string();
  if (plain_sequence(a) && plain_sequence(b) && a.seq() == b.seq()) {
    const List &x = a.as_list(), &y = b.as_list();
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equal(x[i], y[i])) return order(x[i], y[i], op);
    return x.size() < y.size() ? -1 : x.size() > y.size();
  }
  if (a.is_undefined() || b.is_undefined()) throw RenderError("an undefined value compared with '" + op + "'");
  throw RenderError("'" + op + "' not supported between '" + a.type_name() + "' and '" + b.type_name() + "'");
}

}  // namespace

Value unary_op(const std::string& op, const Value& v) {
  if (v.is_int()) return op == "-" ? integer_op("-", 0, v.as_int()) : Value(v.as_int());
  if (v.is_number()) return Value(op == "-" ? -v.as_double() : v.as_double());
  if (v.is_undefined()) throw RenderError("an undefined value used with unary '" + op + "'");
  throw RenderError("bad operand type for unary " + op + ": '" + v.type_name() + "'");
}

Value binary_op(const std::string& op, const Value& a, const Value& b, std::size_t max_bytes) {
  if (a.is_int() && b.is_int()) return integer_op(op, a.as_int(), b.as_int());
  if (a.is_number() && b.is_number()) return float_op(op, a.as_double(), b.as_double());
  if (op == "+" && a.is_string() && b.is_string()) {
    if (a.as_string().size() + b.as_string().size() > max_bytes) throw RenderError("a string too long");
    return Value(a.as_string() + b.as_string());
  }
  if (op == "+" && plain_sequence(a) && plain_sequence(b) && a.seq() == b.seq()) {
    List out = a.as_list();
    out.insert(out.end(), b.as_list().begin(), b.as_list().end());
    return Value::list(std::move(out), a.seq());
  }
  if (op == "*" && (a.is_string() || plain_sequence(a)) && b.is_int()) return repeat(a, b.as_int(), max_bytes);
  if (op == "*" && (b.is_string() || plain_sequence(b)) && a.is_int()) return repeat(b, a.as_int(), max_bytes);
  if (op == "%" && a.is_string()) throw RenderError("printf-style string formatting ('%') is not supported");
  unsupported(op, a, b);
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (!item.is_string()) throw RenderError("'in <string>' requires string as left operand, not " + item.type_name());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict() && !container.is_namespace()) {
    if (item.is_list() || item.is_dict()) throw RenderError("unhashable type: '" + item.type_name() + "'");
    return item.is_string() && !container.get(item.as_string()).is_undefined();
  }
  if (container.is_list() || container.is_undefined()) {
    for (const auto& x : iterate(container))
      if (equal(x, item)) return true;
    return false;
  }
  throw RenderError("argument of type '" + container.type_name() + "' is not iterable");
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "not in") return !contains(b, a);
  const int c = order(a, b, op);
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  return c >= 0;
}

Value slice_of(const Value& obj, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
               std::optional<std::int64_t> step) {
  if (!obj.is_string() && !plain_sequence(obj)) return {};
  const std::u32string text = obj.is_string() ? pystr::decode(obj.as_string()) : std::u32string();
  const auto n = static_cast<std::int64_t>(obj.is_string() ? text.size() : obj.as_list().size());
  const std::int64_t s = step.value_or(1);
  // Python's slice.indices(): clamp to the sequence, counting from the end for negatives.
  auto clamp = [&](std::optional<std::int64_t> v, std::int64_t fallback) {
    if (!v) return fallback;
    std::int64_t x = *v < 0 ? *v + n : *v;
    if (s > 0) return std::clamp<std::int64_t>(x, 0, n);
    return std::clamp<std::int64_t>(x, -1, n - 1);
  };
  const std::int64_t from = clamp(start, s > 0 ? 0 : n - 1), to = clamp(stop, s > 0 ? n : -1);
  std::u32string sub;
  List items;
  for (std::int64_t i = from; s > 0 ? i < to : i > to; i += s) {
    if (obj.is_string()) sub.push_back(text[i]);
    else items.push_back(obj.as_list()[i]);
  }
  if (obj.is_string()) return Value(pystr::encode(sub));
  return Value::list(std::move(items), obj.seq());
}

}  // namespace pagedserve::jinja
