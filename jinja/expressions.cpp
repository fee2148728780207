// Interpreter::eval: the expressions of a template, with Python's operators.
#include <cmath>
#include <ctime>

#include "jinja/builtins.hpp"
#include "jinja/interpreter.hpp"
#include "jinja/operators.hpp"

namespace pagedserve::jinja {

namespace {

[[noreturn]] void fail(const Expr& e, const std::string& message) {
  throw RenderError("template line " + std::to_string(e.line) + ": " + message);
}

Value range_of(const Args& args, std::uint64_t max_items) {
  if (args.empty() || args.size() > 3) throw RenderError("range() takes 1 to 3 integers");
  for (const auto& a : args)
    if (!a.is_int()) throw RenderError("range() takes integers, not " + a.type_name());
  std::int64_t start = 0, stop = args[0].as_int(), stride = 1;
  if (args.size() >= 2) start = args[0].as_int(), stop = args[1].as_int();
  if (args.size() == 3) stride = args[2].as_int();
  if (stride == 0) throw RenderError("range() step must not be zero");
  List out;
  for (std::int64_t i = start; stride > 0 ? i < stop : i > stop; i += stride) {
    if (out.size() >= max_items) throw RenderError("range() of more than " + std::to_string(max_items) + " items");
    out.emplace_back(i);
  }
  return Value::list(std::move(out));
}

Value namespace_of(const Args& args, const Kwargs& kwargs) {
  Dict entries;
  if (args.size() > 1 || (args.size() == 1 && !args[0].is_dict())) throw RenderError("namespace() takes one dict at most");
  if (!args.empty()) entries = args[0].as_dict();
  for (const auto& [k, v] : kwargs) entries.emplace_back(k, v);
  return Value::dict(std::move(entries), true);
}

}  // namespace

Value Interpreter::lookup(const std::string& name) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (auto found = (*it)->find(name); found != (*it)->end()) return found->second;
  return {};
}

// The functions every template sees, as Hugging Face's environment sets
// them up: jinja2's range, namespace and dict, and HF's raise_exception and
// strftime_now.
Value Interpreter::global(const std::string& name) {
  if (name == "range")
    return Value::function(name, [this](const Args& a, const Kwargs&) { return range_of(a, options_.limits.max_steps); });
  if (name == "namespace") return Value::function(name, namespace_of);
  if (name == "dict")
    return Value::function(name, [](const Args& a, const Kwargs& kw) {
      if (!a.empty()) throw RenderError("dict() takes keyword arguments only");
      return Value::dict(kw);
    });
  if (name == "raise_exception")
    return Value::function(name, [](const Args& a, const Kwargs&) -> Value {
      throw RenderError(a.empty() ? std::string() : a[0].str());
    });
  if (name == "strftime_now")
    return Value::function(name, [this](const Args& a, const Kwargs&) {
      if (a.size() != 1 || !a[0].is_string()) throw RenderError("strftime_now() takes one format string");
      const std::time_t t = options_.now();
      std::tm local{};
      localtime_r(&t, &local);
      char buf[512];
      const std::size_t n = std::strftime(buf, sizeof buf, a[0].as_string().c_str(), &local);
      return Value(std::string(buf, n));
    });
  return {};
}

Value Interpreter::eval(const Expr& e) {
  step();
  switch (e.kind) {
    case ExprKind::literal: return e.value;
    case ExprKind::name: {
      Value v = lookup(e.name);
      return v.is_undefined() && is_global_function(e.name) ? global(e.name) : v;
    }
    case ExprKind::list:
    case ExprKind::tuple: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::list(std::move(items), e.kind == ExprKind::tuple ? Value::Seq::tuple : Value::Seq::list);
    }
    case ExprKind::dict: {
      Dict entries;
      for (std::size_t i = 0; i + 1 < e.args.size(); i += 2) {
        const Value k = eval(*e.args[i]);
        if (!k.is_string()) fail(e, "dict literal keys must be strings here, not " + k.type_name());
        Value v = eval(*e.args[i + 1]);
        bool replaced = false;
        for (auto& [key, old] : entries)
          if (key == k.as_string()) old = v, replaced = true;
        if (!replaced) entries.emplace_back(k.as_string(), v);
      }
      return Value::dict(std::move(entries));
    }
    case ExprKind::attribute: {
      const Value obj = eval(*e.args[0]);
      if (obj.is_undefined()) fail(e, "undefined value has no attribute '" + e.name + "'");
      return get_attribute(obj, e.name);
    }
    case ExprKind::item: {
      const Value obj = eval(*e.args[0]);
      if (obj.is_undefined()) fail(e, "undefined value is not subscriptable");
      return get_item(obj, eval(*e.args[1]));
    }
    case ExprKind::slice: return eval_slice(e);
    case ExprKind::call: return eval_call(e);
    case ExprKind::filter: {
      Args args;
      Kwargs kwargs;
      eval_arguments(e, args, kwargs);
      const Value operand = args.front();
      args.erase(args.begin());
      return apply_filter(*this, e.name, operand, args, kwargs);
    }
    case ExprKind::test: {
      Args args;
      for (std::size_t i = 1; i < e.args.size(); ++i) args.push_back(eval(*e.args[i]));
      const Value operand = eval(*e.args[0]);
      return Value(apply_test(*this, e.name, operand, args) != e.negated);
    }
    case ExprKind::unary: {
      const Value v = eval(*e.args[0]);
      if (e.name == "not") return Value(!v.truthy());
      return unary_op(e.name, v);
    }
    case ExprKind::binary: return eval_binary(e);
    case ExprKind::compare: return eval_compare(e);
    case ExprKind::condition:
      if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
      return e.args[2] ? eval(*e.args[2]) : Value();
  }
  return {};
}

void Interpreter::eval_arguments(const Expr& e, Args& args, Kwargs& kwargs) {
  for (std::size_t i = e.kind == ExprKind::call ? 1 : 0; i < e.args.size(); ++i) args.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) kwargs.emplace_back(k, eval(*v));
}

Value Interpreter::eval_call(const Expr& e) {
  const Value callee = eval(*e.args[0]);
  Args args;
  Kwargs kwargs;
  eval_arguments(e, args, kwargs);
  if (!callee.is_function()) {
    const std::string what = e.args[0]->kind == ExprKind::name ? "'" + e.args[0]->name + "'" : "the value";
    fail(e, what + " (" + callee.type_name() + ") is not callable");
  }
  try {
    return callee.call(args, kwargs);
  } catch (const std::bad_function_call&) {
    fail(e, "cannot call " + callee.function_name());
  }
}

Value Interpreter::eval_binary(const Expr& e) {
  const Value left = eval(*e.args[0]);
  if (e.name == "and") return left.truthy() ? eval(*e.args[1]) : left;
  if (e.name == "or") return left.truthy() ? left : eval(*e.args[1]);
  const Value right = eval(*e.args[1]);
  if (e.name == "~") {
    const std::string l = left.str(), r = right.str();
    check_size(l.size() + r.size());
    return Value(l + r);
  }
  try {
    return binary_op(e.name, left, right, options_.limits.max_output_bytes);
  } catch (const RenderError& err) {
    fail(e, err.what());
  }
}

Value Interpreter::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (std::size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1]);
    bool ok;
    try {
      ok = compare_op(e.ops[i], left, right);
    } catch (const RenderError& err) {
      fail(e, err.what());
    }
    if (!ok) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Interpreter::eval_slice(const Expr& e) {
  const Value obj = eval(*e.args[0]);
  if (obj.is_undefined()) fail(e, "undefined value is not subscriptable");
  std::optional<std::int64_t> bounds[3];
  for (int k = 0; k < 3; ++k) {
    if (!e.args[k + 1]) continue;
    const Value b = eval(*e.args[k + 1]);
    if (b.is_none()) continue;
    if (!b.is_int()) fail(e, "slice indices must be integers or None, not " + b.type_name());
    bounds[k] = b.as_int();
  }
  if (bounds[2] && *bounds[2] == 0) fail(e, "slice step cannot be zero");
  return slice_of(obj, bounds[0], bounds[1], bounds[2]);
}

}  // namespace pagedserve::jinja
