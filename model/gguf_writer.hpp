#pragma once
// A writer of GGUF files (version 3), the format llama.cpp loads: a header,
// key/value metadata, tensor infos, then each tensor's data aligned to 32
// bytes. Tensors are produced one at a time while the file is written, so a
// model larger than memory can be exported.
//
//   "GGUF" u32 version=3 | u64 n_tensors | u64 n_kv
//   n_kv x (string key, u32 type, value)
//   n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset)
//   padding to 32 | tensor data, each padded to 32
//
// Strings are a u64 length and the bytes; ne[0] is the innermost (fastest
// varying) dimension, so a row-major [rows, cols] matrix is ne = {cols, rows}.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pagedserve::model {

enum class GgufTensorType : std::uint32_t { f32 = 0, f16 = 1 };

class GgufWriter {
 public:
  // Fills a tensor's values, row-major, as floats.
  using Producer = std::function<std::vector<float>()>;

  void add_string(const std::string& key, const std::string& value);
  void add_u32(const std::string& key, std::uint32_t value);
  void add_f32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_strings(const std::string& key, const std::vector<std::string>& values);
  void add_f32s(const std::string& key, const std::vector<float>& values);
  void add_i32s(const std::string& key, const std::vector<std::int32_t>& values);

  // A tensor of shape [rows, cols] (a vector: rows 1, stored with one
  // dimension), stored as `type`; `produce` is called once, by write().
  void add_tensor(const std::string& name, std::int64_t rows, std::int64_t cols, GgufTensorType type, Producer produce);

  // Writes the file; throws std::runtime_error naming the path or the
  // tensor whose producer returned the wrong number of values.
  void write(const std::string& path) const;

 private:
  struct TensorInfo {
    std::string name;
    std::int64_t rows = 0, cols = 0;
    GgufTensorType type = GgufTensorType::f32;
    Producer produce;
    std::uint64_t bytes() const;
  };
  void begin_value(const std::string& key, std::uint32_t type);
  void begin_array(const std::string& key, std::uint32_t element_type, std::uint64_t count);
  void put(const void* data, std::size_t n) { kv_.append(static_cast<const char*>(data), n); }
  void put_string(const std::string& s);

  std::string kv_;  // the encoded key/value pairs
  std::uint64_t num_kv_ = 0;
  std::vector<TensorInfo> tensors_;
};

}  // namespace pagedserve::model
