// jinja2's tests (`x is defined`, `x is string`, ...) as chat templates use them.
#include <map>

#include "jinja/builtins.hpp"
#include "jinja/interpreter.hpp"
#include "jinja/operators.hpp"
#include "jinja/python_str.hpp"

namespace pagedserve::jinja {

namespace {

using TestFn = bool (*)(const Value&, const Args&);

const Value& only_arg(const Args& a, const char* test) {
  if (a.size() != 1) throw RenderError(std::string("the test '") + test + "' takes one argument");
  return a[0];
}

bool integer_arg(const Value& v, const char* test) {
  if (!v.is_int()) throw RenderError(std::string("the test '") + test + "' needs an integer");
  return true;
}

bool is_sequence(const Value& v) {
  // Python: has len() and [] (undefined has both)
  return v.is_undefined() || v.is_string() || v.is_dict() ||
         (v.is_list() && v.seq() != Value::Seq::generator && v.seq() != Value::Seq::view);
}

bool ordered(const char* op, const Value& v, const Args& a) { return compare_op(op, v, only_arg(a, op)); }

bool case_test(const Value& v, bool upper_case) {
  if (!v.is_string()) return false;
  const auto up = pystr::upper(v.as_string()), low = pystr::lower(v.as_string());
  if (!up || !low) throw RenderError("the upper/lower test of non-ASCII letters is not supported");
  const bool has_letter = *up != *low;
  return has_letter && (upper_case ? *up == v.as_string() : *low == v.as_string());
}

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> table = {
      {"defined", [](const Value& v, const Args&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, const Args&) { return v.is_undefined(); }},
      {"none", [](const Value& v, const Args&) { return v.is_none(); }},
      {"string", [](const Value& v, const Args&) { return v.is_string(); }},
      {"mapping", [](const Value& v, const Args&) { return v.is_dict() && !v.is_namespace(); }},
      {"iterable", [](const Value& v, const Args&) { return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace()); }},
      {"sequence", [](const Value& v, const Args&) { return is_sequence(v); }},
      {"number", [](const Value& v, const Args&) { return v.is_number(); }},
      {"integer", [](const Value& v, const Args&) { return v.kind() == Value::Kind::integer; }},
      {"float", [](const Value& v, const Args&) { return v.kind() == Value::Kind::floating; }},
      {"boolean", [](const Value& v, const Args&) { return v.is_bool(); }},
      {"true", [](const Value& v, const Args&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](const Value& v, const Args&) { return v.is_bool() && !v.as_bool(); }},
      {"callable", [](const Value& v, const Args&) { return v.is_function(); }},
      {"even", [](const Value& v, const Args&) { return integer_arg(v, "even") && v.as_int() % 2 == 0; }},
      {"odd", [](const Value& v, const Args&) { return integer_arg(v, "odd") && v.as_int() % 2 != 0; }},
      {"divisibleby", [](const Value& v, const Args& a) {
         const Value& d = only_arg(a, "divisibleby");
         integer_arg(v, "divisibleby");
         integer_arg(d, "divisibleby");
         if (d.as_int() == 0) throw RenderError("divisibleby 0");
         return v.as_int() % d.as_int() == 0;
       }},
      {"eq", [](const Value& v, const Args& a) { return equal(v, only_arg(a, "eq")); }},
      {"equalto", [](const Value& v, const Args& a) { return equal(v, only_arg(a, "equalto")); }},
      {"ne", [](const Value& v, const Args& a) { return !equal(v, only_arg(a, "ne")); }},
      {"lt", [](const Value& v, const Args& a) { return ordered("<", v, a); }},
      {"le", [](const Value& v, const Args& a) { return ordered("<=", v, a); }},
      {"gt", [](const Value& v, const Args& a) { return ordered(">", v, a); }},
      {"ge", [](const Value& v, const Args& a) { return ordered(">=", v, a); }},
      {"in", [](const Value& v, const Args& a) { return contains(only_arg(a, "in"), v); }},
      {"sameas", [](const Value& v, const Args& a) {
         const Value& o = only_arg(a, "sameas");
         const bool singleton = v.is_none() || v.is_bool() || v.is_undefined();
         if (!singleton) throw RenderError("the sameas test is supported for None, True and False only");
         return v.kind() == o.kind() && (!v.is_bool() || v.as_bool() == o.as_bool());
       }},
      {"upper", [](const Value& v, const Args&) { return case_test(v, true); }},
      {"lower", [](const Value& v, const Args&) { return case_test(v, false); }},
  };
  return table;
}

}  // namespace

bool is_test(const std::string& name) {
  return tests().count(name) > 0 || name == "==" || name == "!=" || name == "<" || name == "<=" || name == ">" ||
         name == ">=";
}

bool apply_test(Interpreter& in, const std::string& name, const Value& operand, const Args& args) {
  in.step();
  if (auto it = tests().find(name); it != tests().end()) return it->second(operand, args);
  if (args.size() != 1) throw RenderError("the test '" + name + "' takes one argument");
  return compare_op(name, operand, args[0]);
}

bool is_global_function(const std::string& name) {
  return name == "range" || name == "namespace" || name == "dict" || name == "raise_exception" || name == "strftime_now";
}

}  // namespace pagedserve::jinja
