#include "jinja/interpreter.hpp"

#include "jinja/builtins.hpp"

namespace pagedserve::jinja {

Interpreter::Interpreter(RenderOptions options) : options_(std::move(options)) {}

std::string Interpreter::render(const Body& body, const Dict& context) {
  auto top = std::make_shared<Frame>();
  for (const auto& [k, v] : context) (*top)[k] = v;
  frames_ = {top};
  std::string out;
  out_ = &out;
  steps_ = 0;
  call_depth_ = 0;
  run(body);
  return out;
}

void Interpreter::step() {
  if (++steps_ > options_.limits.max_steps)
    throw RenderError("the template ran past " + std::to_string(options_.limits.max_steps) + " steps");
}

void Interpreter::check_size(std::size_t bytes) const {
  if (bytes > options_.limits.max_output_bytes || out_->size() + bytes > options_.limits.max_output_bytes)
    throw RenderError("the template's output passed " + std::to_string(options_.limits.max_output_bytes) + " bytes");
}

void Interpreter::write(const std::string& text) {
  check_size(text.size());
  *out_ += text;
}

Interpreter::Flow Interpreter::run(const Body& body) {
  for (const auto& s : body)
    if (Flow f = run(*s); f != Flow::normal) return f;
  return Flow::normal;
}

Interpreter::Flow Interpreter::run(const Stmt& s) {
  step();
  switch (s.kind) {
    case StmtKind::text: write(s.text); break;
    case StmtKind::output: write(eval(*s.expr).str()); break;
    case StmtKind::if_: return run_if(s);
    case StmtKind::for_: return run_for(s);
    case StmtKind::set: run_set(s); break;
    case StmtKind::set_block: assign(s.targets, Value(capture(s.body)), s.line); break;
    case StmtKind::macro: (*frames_.back())[s.text] = make_macro(s); break;
    case StmtKind::call_block: run_call_block(s); break;
    case StmtKind::break_: return Flow::break_;
    case StmtKind::continue_: return Flow::continue_;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::run_if(const Stmt& s) {
  for (const auto& [cond, body] : s.branches)
    if (eval(*cond).truthy()) return run(body);
  return run(s.else_body);
}

namespace {

Value loop_record(const List& items, std::size_t i) {
  const auto n = static_cast<std::int64_t>(items.size());
  const auto k = static_cast<std::int64_t>(i);
  Dict loop = {{"index", Value(k + 1)},          {"index0", Value(k)},
               {"revindex", Value(n - k)},       {"revindex0", Value(n - k - 1)},
               {"first", Value(k == 0)},         {"last", Value(k == n - 1)},
               {"length", Value(n)},             {"depth", Value(1)},
               {"depth0", Value(0)},             {"previtem", i > 0 ? items[i - 1] : Value()},
               {"nextitem", i + 1 < items.size() ? items[i + 1] : Value()}};
  loop.emplace_back("cycle", Value::function("loop.cycle", [k](const Args& args, const Kwargs&) {
                      if (args.empty()) throw RenderError("loop.cycle() needs at least one value");
                      return args[k % static_cast<std::int64_t>(args.size())];
                    }));
  return Value::dict(std::move(loop), true);
}

}  // namespace

Interpreter::Flow Interpreter::run_for(const Stmt& s) {
  List items;
  const List all = iterate(eval(*s.expr));
  frames_.push_back(std::make_shared<Frame>());
  struct Pop {
    std::vector<std::shared_ptr<Frame>>& f;
    ~Pop() { f.pop_back(); }
  } pop{frames_};
  if (s.condition) {
    for (const auto& item : all) {
      assign(s.targets, item, s.line);
      if (eval(*s.condition).truthy()) items.push_back(item);
    }
  } else {
    items = all;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    step();
    assign(s.targets, items[i], s.line);
    (*frames_.back())["loop"] = loop_record(items, i);
    if (run(s.body) == Flow::break_) break;
  }
  if (items.empty()) {
    frames_.back()->erase("loop");
    return run(s.else_body);
  }
  return Flow::normal;
}

void Interpreter::assign(const std::vector<std::string>& targets, const Value& v, int line) {
  if (targets.size() == 1) {
    (*frames_.back())[targets[0]] = v;
    return;
  }
  const List parts = v.is_list() || v.is_string() || v.is_dict() ? iterate(v) : List{};
  if (!(v.is_list() || v.is_string() || v.is_dict()) || parts.size() != targets.size())
    throw RenderError("template line " + std::to_string(line) + ": cannot unpack " + v.type_name() + " into " +
                      std::to_string(targets.size()) + " names");
  for (std::size_t i = 0; i < targets.size(); ++i) (*frames_.back())[targets[i]] = parts[i];
}

void Interpreter::run_set(const Stmt& s) {
  const Value v = eval(*s.expr);
  if (s.attribute.empty()) return assign(s.targets, v, s.line);
  const Value ns = lookup(s.targets[0]);
  if (!ns.is_namespace())
    throw RenderError("template line " + std::to_string(s.line) + ": cannot set ." + s.attribute + " on " +
                      ns.type_name() + " '" + s.targets[0] + "' (only on a namespace)");
  for (auto& [k, old] : ns.namespace_entries())
    if (k == s.attribute) {
      old = v;
      return;
    }
  ns.namespace_entries().emplace_back(s.attribute, v);
}

std::string Interpreter::capture(const Body& body) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  try {
    run(body);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  check_size(buffer.size());
  return buffer;
}

Value Interpreter::make_macro(const Stmt& s) {
  const Stmt* macro = &s;
  return Value::function(s.text, [this, macro](const Args& args, const Kwargs& kwargs) {
    Value caller;
    Kwargs named;
    for (const auto& [k, v] : kwargs) {
      if (k == "caller") caller = v;
      else named.emplace_back(k, v);
    }
    return call_macro(*macro, args, named, caller, {frames_.front()});
  });
}

Value Interpreter::call_macro(const Stmt& s, const Args& args, const Kwargs& kwargs, const Value& caller,
                              std::vector<std::shared_ptr<Frame>> scope) {
  if (args.size() > s.params.size())
    throw RenderError("macro '" + s.text + "' takes not more than " + std::to_string(s.params.size()) + " arguments");
  if (++call_depth_ > options_.limits.max_call_depth) {
    call_depth_ = 0;
    throw RenderError("macros nested deeper than " + std::to_string(options_.limits.max_call_depth) + " calls");
  }
  auto frame = std::make_shared<Frame>();
  std::vector<std::shared_ptr<Frame>> saved = std::move(frames_);
  scope.push_back(frame);
  frames_ = std::move(scope);
  try {
    for (const auto& [k, v] : kwargs) {
      bool known = false;
      for (const auto& p : s.params) known |= p.name == k;
      if (!known) throw RenderError("macro '" + s.text + "' takes no keyword argument '" + k + "'");
      (*frame)[k] = v;
    }
    for (std::size_t i = 0; i < s.params.size(); ++i) {
      const Param& p = s.params[i];
      if (i < args.size()) (*frame)[p.name] = args[i];
      else if (!frame->count(p.name)) (*frame)[p.name] = p.default_value ? eval(*p.default_value) : Value();
    }
    if (!caller.is_undefined()) (*frame)["caller"] = caller;
    Value result(capture(s.body));
    frames_ = std::move(saved);
    --call_depth_;
    return result;
  } catch (...) {
    frames_ = std::move(saved);
    --call_depth_;
    throw;
  }
}

void Interpreter::run_call_block(const Stmt& s) {
  const Stmt* block = &s;
  // The block's body sees the variables of the place it is written in.
  Value caller = Value::function("caller", [this, block, scope = frames_](const Args& args, const Kwargs& kwargs) {
    return call_macro(*block, args, kwargs, Value(), scope);
  });
  const Expr& call = *s.expr;
  Value callee = eval(*call.args[0]);
  if (!callee.is_function()) throw RenderError("template line " + std::to_string(s.line) + ": {% call %} of a non-macro");
  Args args;
  Kwargs kwargs;
  eval_arguments(call, args, kwargs);
  kwargs.emplace_back("caller", caller);
  write(callee.call(args, kwargs).str());
}

}  // namespace pagedserve::jinja
