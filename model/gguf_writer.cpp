#include "model/gguf_writer.hpp"

#include <fstream>
#include <stdexcept>

#include "kernels/tensor.hpp"

namespace pagedserve::model {

namespace {

// GGUF value types (gguf_type).
constexpr std::uint32_t kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9;
constexpr std::uint64_t kAlignment = 32;

std::uint64_t padded(std::uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

class Output {
 public:
  explicit Output(const std::string& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
    if (!out_) throw std::runtime_error("cannot write " + path);
  }
  void put(const void* data, std::size_t n) {
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    written_ += n;
  }
  template <typename T>
  void put_value(T v) { put(&v, sizeof v); }
  void put_string(const std::string& s) {
    put_value<std::uint64_t>(s.size());
    put(s.data(), s.size());
  }
  void pad() {
    static const char zeros[kAlignment] = {};
    put(zeros, padded(written_) - written_);
  }
  void finish() {
    out_.flush();
    if (!out_) throw std::runtime_error("error writing " + path_);
  }

 private:
  std::string path_;
  std::ofstream out_;
  std::uint64_t written_ = 0;
};

void put_tensor_data(Output& out, const std::vector<float>& values, GgufTensorType type) {
  if (type == GgufTensorType::f32) {
    out.put(values.data(), values.size() * sizeof(float));
    return;
  }
  std::vector<std::uint16_t> half(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) half[i] = kernels::float_to_half(values[i]);
  out.put(half.data(), half.size() * sizeof(std::uint16_t));
}

}  // namespace

std::uint64_t GgufWriter::TensorInfo::bytes() const {
  return static_cast<std::uint64_t>(rows * cols) * (type == GgufTensorType::f32 ? 4 : 2);
}

void GgufWriter::put_string(const std::string& s) {
  const std::uint64_t n = s.size();
  put(&n, sizeof n);
  put(s.data(), s.size());
}

void GgufWriter::begin_value(const std::string& key, std::uint32_t type) {
  put_string(key);
  put(&type, sizeof type);
  ++num_kv_;
}

void GgufWriter::begin_array(const std::string& key, std::uint32_t element_type, std::uint64_t count) {
  begin_value(key, kArray);
  put(&element_type, sizeof element_type);
  put(&count, sizeof count);
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  begin_value(key, kString);
  put_string(value);
}

void GgufWriter::add_u32(const std::string& key, std::uint32_t value) {
  begin_value(key, kU32);
  put(&value, sizeof value);
}

void GgufWriter::add_f32(const std::string& key, float value) {
  begin_value(key, kF32);
  put(&value, sizeof value);
}

void GgufWriter::add_bool(const std::string& key, bool value) {
  begin_value(key, kBool);
  const std::uint8_t b = value ? 1 : 0;
  put(&b, 1);
}

void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& values) {
  begin_array(key, kString, values.size());
  for (const auto& s : values) put_string(s);
}

void GgufWriter::add_f32s(const std::string& key, const std::vector<float>& values) {
  begin_array(key, kF32, values.size());
  put(values.data(), values.size() * sizeof(float));
}

void GgufWriter::add_i32s(const std::string& key, const std::vector<std::int32_t>& values) {
  begin_array(key, kI32, values.size());
  put(values.data(), values.size() * sizeof(std::int32_t));
}

void GgufWriter::add_tensor(const std::string& name, std::int64_t rows, std::int64_t cols, GgufTensorType type,
                            Producer produce) {
  tensors_.push_back({name, rows, cols, type, std::move(produce)});
}

void GgufWriter::write(const std::string& path) const {
  Output out(path);
  out.put("GGUF", 4);
  out.put_value<std::uint32_t>(3);
  out.put_value<std::uint64_t>(tensors_.size());
  out.put_value<std::uint64_t>(num_kv_);
  out.put(kv_.data(), kv_.size());
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    out.put_string(t.name);
    const bool vector = t.rows == 1;
    out.put_value<std::uint32_t>(vector ? 1 : 2);
    out.put_value<std::uint64_t>(t.cols);
    if (!vector) out.put_value<std::uint64_t>(t.rows);
    out.put_value<std::uint32_t>(static_cast<std::uint32_t>(t.type));
    out.put_value<std::uint64_t>(offset);
    offset += padded(t.bytes());
  }
  out.pad();
  for (const auto& t : tensors_) {
    const auto values = t.produce();
    if (values.size() != static_cast<std::size_t>(t.rows * t.cols))
      throw std::runtime_error("tensor " + t.name + ": " + std::to_string(values.size()) + " values for shape [" +
                               std::to_string(t.rows) + ", " + std::to_string(t.cols) + "]");
    put_tensor_data(out, values, t.type);
    out.pad();
  }
  out.finish();
}

}  // namespace pagedserve::model
