#pragma once
// The filters, tests, global functions and methods templates may use. The
// parser refuses any other name at load; the interpreter implements each.

#include <string>

#include "jinja/value.hpp"

namespace pagedserve::jinja {

class Interpreter;

bool is_filter(const std::string& name);
bool is_test(const std::string& name);
bool is_global_function(const std::string& name);  // range, namespace, dict, raise_exception, strftime_now
bool is_method(const std::string& name);           // of str, dict, or loop.cycle

Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, const Args& args,
                   const Kwargs& kwargs);
bool apply_test(Interpreter& in, const std::string& name, const Value& operand, const Args& args);
// obj.name: a bound method, a dict's entry, a namespace's attribute, or
// undefined. Throws RenderError on undefined.
Value get_attribute(const Value& obj, const std::string& name);
// obj[key], Python's subscription with jinja2's fallbacks.
Value get_item(const Value& obj, const Value& key);

// HF's tojson: json.dumps(x, ensure_ascii=False, indent=indent,
// separators=separators, sort_keys=sort_keys).
std::string to_json(const Value& v, const Kwargs& options);

}  // namespace pagedserve::jinja
