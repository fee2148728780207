#pragma once
// The values a template computes with, modelled on the Python objects that
// jinja2 hands around: undefined (jinja2's default Undefined), None, bool,
// int, float, str, list/tuple, dict, namespace and callables (macros and
// global functions). Printing follows Python's str() and repr().
//
// Lists and dicts are shared (copying a Value copies a handle), as in
// Python; templates cannot mutate them (the sandbox Hugging Face renders in
// is immutable), except a namespace's attributes through `set ns.x = ...`.

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pagedserve::jinja {

class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // insertion order, as Python's dict
using Args = std::vector<Value>;
using Kwargs = std::vector<std::pair<std::string, Value>>;
using Function = std::function<Value(const Args&, const Kwargs&)>;

// A template cannot be rendered (a type error, an undefined value used, or
// raise_exception): the message says why.
struct RenderError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Kind { undefined, none, boolean, integer, floating, string, list, dict, function };

  Value() = default;  // undefined
  static Value none();
  Value(bool b);
  Value(int i) : Value(static_cast<std::int64_t>(i)) {}
  Value(std::int64_t i);
  Value(double d);
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  // What Python object a sequence stands for: its printing, len() and
  // reuse differ. A generator (what map, select and friends return) is
  // used up by one pass; a dict view (d.items()) prints as no list does.
  enum class Seq { list, tuple, generator, view };
  static Value list(List items, Seq seq = Seq::list);
  static Value dict(Dict entries, bool is_namespace = false);
  static Value function(std::string name, Function f);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer || kind_ == Kind::boolean; }  // bool is an int in Python
  bool is_number() const { return is_int() || kind_ == Kind::floating; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_tuple() const { return kind_ == Kind::list && seq_ == Seq::tuple; }
  Seq seq() const { return seq_; }
  // A generator's items, once; empty after the first pass.
  List take_items() const;
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_namespace() const { return kind_ == Kind::dict && namespace_; }
  bool is_function() const { return kind_ == Kind::function; }

  bool as_bool() const { return int_ != 0; }
  std::int64_t as_int() const { return int_; }
  double as_double() const { return kind_ == Kind::floating ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return *string_; }
  const List& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Dict& namespace_entries() const { return *dict_; }  // the one mutable container
  const std::string& function_name() const { return *string_; }
  Value call(const Args& args, const Kwargs& kwargs) const { return (*function_)(args, kwargs); }

  // A dict's entry, or undefined.
  Value get(const std::string& key) const;

  // Python's truth value; undefined is false.
  bool truthy() const;
  // Python's str() (undefined prints as nothing) and repr().
  std::string str() const;
  std::string repr() const;
  // The Python type's name, for error messages.
  std::string type_name() const;

 private:
  Kind kind_ = Kind::undefined;
  Seq seq_ = Seq::list;
  std::shared_ptr<bool> used_;  // a generator's: consumed already
  bool namespace_ = false;
  std::int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> string_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Function> function_;
};

// Python's ==, across int/float/bool, lists and dicts.
bool equal(const Value& a, const Value& b);

// Python's float repr: the shortest text that reads back the same double.
std::string python_float_repr(double d);

// The elements a for loop or filter walks: a list's items, a dict's keys, a
// string's characters; undefined is empty; a generator's items once.
// Throws RenderError for what Python cannot iterate.
List iterate(const Value& v);

}  // namespace pagedserve::jinja
