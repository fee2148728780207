#pragma once
// Renders a parsed template: statements write text, expressions compute
// Values with Python's semantics. Scoping follows jinja2: a for loop's body
// and a macro's body have their own variables (a namespace() carries values
// out); if blocks do not.
//
// Bounded: output size, work steps and macro nesting have limits, so no
// template (they come from model files and users) can hang or exhaust the
// server.

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "jinja/ast.hpp"

namespace pagedserve::jinja {

struct RenderLimits {
  std::size_t max_output_bytes = 8u << 20;
  std::uint64_t max_steps = 20'000'000;  // statements run plus expressions evaluated
  int max_call_depth = 100;              // nested macro calls
};

struct RenderOptions {
  RenderLimits limits;
  // The clock strftime_now() reads (seconds since the epoch), local time as
  // Python's datetime.now().
  std::function<std::time_t()> now = [] { return std::time(nullptr); };
};

class Interpreter {
 public:
  explicit Interpreter(RenderOptions options);

  // Renders `body` with `context` as its variables. Throws RenderError.
  std::string render(const Body& body, const Dict& context);

  Value eval(const Expr& e);
  // Counts one unit of work; throws when the template runs past the limit.
  void step();
  // Throws when text of `bytes` more would pass the output limit.
  void check_size(std::size_t bytes) const;

 private:
  enum class Flow { normal, break_, continue_ };
  using Frame = std::unordered_map<std::string, Value>;

  RenderOptions options_;
  std::vector<std::shared_ptr<Frame>> frames_;
  std::string* out_ = nullptr;
  std::uint64_t steps_ = 0;
  int call_depth_ = 0;

  Flow run(const Body& body);
  Flow run(const Stmt& s);
  void write(const std::string& text);
  Flow run_if(const Stmt& s);
  Flow run_for(const Stmt& s);
  void run_set(const Stmt& s);
  void assign(const std::vector<std::string>& targets, const Value& v, int line);
  std::string capture(const Body& body);
  Value make_macro(const Stmt& s);
  // A macro's (or a call block's) body, its parameters bound in a frame on
  // top of `scope`.
  Value call_macro(const Stmt& s, const Args& args, const Kwargs& kwargs, const Value& caller,
                   std::vector<std::shared_ptr<Frame>> scope);
  void run_call_block(const Stmt& s);

  Value lookup(const std::string& name) const;
  Value global(const std::string& name);
  Value eval_call(const Expr& e);
  Value eval_binary(const Expr& e);
  Value eval_compare(const Expr& e);
  Value eval_slice(const Expr& e);
  void eval_arguments(const Expr& e, Args& args, Kwargs& kwargs);
};

}  // namespace pagedserve::jinja
