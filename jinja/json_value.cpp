#include "jinja/json_value.hpp"

namespace pagedserve::jinja {

Value from_json(simdjson::dom::element v) {
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE: return Value::none();
    case simdjson::dom::element_type::BOOL: return Value(bool(v.get_bool().value()));
    case simdjson::dom::element_type::INT64: return Value(v.get_int64().value());
    case simdjson::dom::element_type::UINT64: return Value(static_cast<double>(v.get_uint64().value()));
    case simdjson::dom::element_type::DOUBLE: return Value(v.get_double().value());
    case simdjson::dom::element_type::STRING: return Value(std::string(v.get_string().value()));
    case simdjson::dom::element_type::ARRAY: {
      List items;
      simdjson::dom::array array = v.get_array();  // named: the loop must not iterate a dead temporary
      for (auto item : array) items.push_back(from_json(item));
      return Value::list(std::move(items));
    }
    case simdjson::dom::element_type::OBJECT: {
      Dict entries;
      simdjson::dom::object object = v.get_object();
      for (auto [key, value] : object) {
        Value converted = from_json(value);
        bool replaced = false;  // a repeated key: the last one wins, as in Python
        for (auto& [k, old] : entries)
          if (k == key) old = converted, replaced = true;
        if (!replaced) entries.emplace_back(std::string(key), std::move(converted));
      }
      return Value::dict(std::move(entries));
    }
  }
  return Value::none();
}

}  // namespace pagedserve::jinja
