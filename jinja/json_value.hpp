#pragma once
// JSON (a request's messages and tools) as template values: objects become
// dicts in their key order, arrays lists, numbers int or float as Python's
// json module reads them.

#include <simdjson.h>

#include "jinja/value.hpp"

namespace pagedserve::jinja {

Value from_json(simdjson::dom::element v);

}  // namespace pagedserve::jinja
