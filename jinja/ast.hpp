#pragma once
// The parsed template: statements holding expressions. Built once at load,
// read-only while rendering (one parsed template serves every request).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.hpp"

namespace pagedserve::jinja {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

enum class ExprKind {
  literal,    // value
  name,       // name
  list,       // args: items
  tuple,      // args: items
  dict,       // args: key, value, key, value, ...
  attribute,  // args[0].name
  item,       // args[0][args[1]]
  slice,      // args[0][args[1]:args[2]:args[3]], missing parts null
  call,       // args[0](args[1..], kwargs)
  filter,     // args[0] | name(args[1..], kwargs)
  test,       // args[0] is [not] name(args[1..])
  unary,      // name: "not", "-", "+"; args[0]
  binary,     // name: and or + - * / // % ** ~ in "not in"; args[0], args[1]
  compare,    // args[0] ops[0] args[1] ops[1] args[2] ...
  condition,  // args[1] if args[0] else args[2] (null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
};

struct Stmt;
using Body = std::vector<std::shared_ptr<const Stmt>>;

enum class StmtKind { text, output, if_, for_, set, set_block, macro, call_block, break_, continue_ };

struct Param {
  std::string name;
  ExprPtr default_value;  // null: none given
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;                  // text; a macro's name
  ExprPtr expr;                      // output; for's iterable; set's value; call block's call
  ExprPtr condition;                 // for's `if` filter
  std::vector<std::string> targets;  // for/set names (several: tuple unpacking)
  std::string attribute;             // set ns.attribute = ...
  std::vector<std::pair<ExprPtr, Body>> branches;  // if/elif
  Body body;
  Body else_body;
  std::vector<Param> params;  // macro parameters; a call block's caller parameters
};

}  // namespace pagedserve::jinja
