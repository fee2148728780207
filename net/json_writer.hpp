#pragma once
// A small streaming JSON writer: correct string escaping (control
// characters, quotes, invalid UTF-8 replaced by U+FFFD) and commas placed
// for you. Parsing is simdjson's job; this only writes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pagedserve::net {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(double v);  // non-finite numbers are written as null
  JsonWriter& value(bool v);
  JsonWriter& null();
  // `json`, already valid JSON text (simdjson's output), as the next value.
  JsonWriter& raw_value(std::string_view json);
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) { return key(k).value(v); }
  JsonWriter& int_array(const std::vector<std::int32_t>& values);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace pagedserve::net
