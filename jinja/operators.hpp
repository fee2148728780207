#pragma once
// Python's operators on template values: arithmetic, comparison, `in`,
// slicing. Each throws RenderError where Python raises TypeError (or
// jinja2's Undefined raises).

#include <cstdint>
#include <optional>
#include <string>

#include "jinja/value.hpp"

namespace pagedserve::jinja {

Value unary_op(const std::string& op, const Value& v);  // "-" or "+"
// + - * / // % **; `max_bytes` bounds a repeated string or list.
Value binary_op(const std::string& op, const Value& a, const Value& b, std::size_t max_bytes);
// == != < > <= >= in "not in".
bool compare_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);
// obj[start:stop:step] of a str, list or tuple (anything else: undefined,
// as jinja2's subscription falls back).
Value slice_of(const Value& obj, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
               std::optional<std::int64_t> step);

}  // namespace pagedserve::jinja
