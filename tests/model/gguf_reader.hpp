#pragma once
// Reads back a GGUF file, independently of model/gguf_writer.cpp, to check
// what the writer produced: every key/value, every tensor's shape, type and
// data, following the format's description (llama.cpp's gguf.md).

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/tensor.hpp"

namespace pagedserve::testing {

struct GgufValue {
  std::uint32_t type = 0;         // gguf_type of a scalar, or of an array's elements
  bool is_array = false;
  std::vector<double> numbers;    // numeric and bool values
  std::vector<std::string> strings;
  double number() const { return numbers.at(0); }
  const std::string& string() const { return strings.at(0); }
};

struct GgufTensor {
  std::vector<std::uint64_t> ne;  // ne[0] innermost
  std::uint32_t type = 0;         // 0 f32, 1 f16
  std::uint64_t offset = 0;       // from the start of the data section
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
    if (take(4) != "GGUF") throw std::runtime_error(path + ": no GGUF magic");
    version = read<std::uint32_t>();
    const auto num_tensors = read<std::uint64_t>(), num_kv = read<std::uint64_t>();
    for (std::uint64_t i = 0; i < num_kv; ++i) {
      auto key = read_string();
      kv[key] = read_value(read<std::uint32_t>());
    }
    for (std::uint64_t i = 0; i < num_tensors; ++i) {
      auto name = read_string();
      GgufTensor t;
      t.ne.resize(read<std::uint32_t>());
      for (auto& d : t.ne) d = read<std::uint64_t>();
      t.type = read<std::uint32_t>();
      t.offset = read<std::uint64_t>();
      tensors[name] = t;
      names.push_back(name);
    }
    data_start = (at_ + 31) / 32 * 32;
  }

  // A tensor's values as floats, row-major.
  std::vector<float> values(const std::string& name) const {
    const auto& t = tensors.at(name);
    std::uint64_t n = 1;
    for (auto d : t.ne) n *= d;
    std::vector<float> out(n);
    const char* p = bytes_.data() + data_start + t.offset;
    if (data_start + t.offset + n * (t.type == 0 ? 4 : 2) > bytes_.size()) throw std::runtime_error(name + " past the end");
    for (std::uint64_t i = 0; i < n; ++i) {
      if (t.type == 0) std::memcpy(&out[i], p + 4 * i, 4);
      else {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = kernels::half_to_float(h);
      }
    }
    return out;
  }

  std::uint32_t version = 0;
  std::map<std::string, GgufValue> kv;
  std::map<std::string, GgufTensor> tensors;
  std::vector<std::string> names;  // in file order
  std::uint64_t data_start = 0;
  std::uint64_t size() const { return bytes_.size(); }

 private:
  std::string take(std::size_t n) {
    if (at_ + n > bytes_.size()) throw std::runtime_error("GGUF truncated");
    std::string s(bytes_.data() + at_, n);
    at_ += n;
    return s;
  }
  template <typename T>
  T read() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  std::string read_string() { return take(read<std::uint64_t>()); }
  double read_number(std::uint32_t type) {
    switch (type) {
      case 0: return read<std::uint8_t>();
      case 1: return read<std::int8_t>();
      case 2: return read<std::uint16_t>();
      case 3: return read<std::int16_t>();
      case 4: return read<std::uint32_t>();
      case 5: return read<std::int32_t>();
      case 6: return read<float>();
      case 7: return read<std::uint8_t>();
      case 10: return static_cast<double>(read<std::uint64_t>());
      case 11: return static_cast<double>(read<std::int64_t>());
      case 12: return read<double>();
    }
    throw std::runtime_error("GGUF value type " + std::to_string(type));
  }
  GgufValue read_value(std::uint32_t type) {
    GgufValue v;
    std::uint64_t count = 1;
    if (type == 9) {
      v.is_array = true;
      type = read<std::uint32_t>();
      count = read<std::uint64_t>();
    }
    v.type = type;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (type == 8) v.strings.push_back(read_string());
      else v.numbers.push_back(read_number(type));
    }
    return v;
  }

  std::vector<char> bytes_;
  std::size_t at_ = 0;
};

}  // namespace pagedserve::testing
