#include "model/safetensors.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pagedserve::model {

namespace {

kernels::DType parse_dtype(std::string_view name, const std::string& where) {
  if (name == "F32") return kernels::DType::f32;
  if (name == "F16") return kernels::DType::f16;
  if (name == "BF16") return kernels::DType::bf16;
  throw std::runtime_error(where + " has dtype " + std::string(name) + "; supported: F32, F16, BF16");
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(MappedFile::open(path)) {
  const std::size_t size = file_->size();
  if (size < 8) throw std::runtime_error(path + ": too small for a safetensors file");
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, file_->data(), 8);
  if (header_len == 0 || header_len > size - 8 || header_len > (100u << 20))
    throw std::runtime_error(path + ": bad safetensors header length " + std::to_string(header_len));
  const std::byte* data = file_->data() + 8 + header_len;
  const std::size_t data_size = size - 8 - header_len;

  simdjson::dom::parser parser;
  simdjson::dom::element header;
  std::string text(reinterpret_cast<const char*>(file_->data()) + 8, header_len);
  if (parser.parse(text).get(header) || !header.is_object())
    throw std::runtime_error(path + ": the safetensors header is not a JSON object");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto [key, value] : header.get_object()) {
    std::string name(key);
    if (name == "__metadata__") continue;
    const std::string where = path + ": tensor " + name;
    std::string_view dtype_name;
    simdjson::dom::array shape_json, offsets;
    if (value["dtype"].get(dtype_name) || value["shape"].get(shape_json) || value["data_offsets"].get(offsets) ||
        offsets.size() != 2)
      throw std::runtime_error(where + " lacks dtype, shape or data_offsets");
    SafetensorsEntry e;
    e.tensor.dtype = parse_dtype(dtype_name, where);
    std::int64_t numel = 1;
    for (auto d : shape_json) {
      std::int64_t dim = 0;
      if (d.get(dim) || dim < 0 || dim > (1LL << 40)) throw std::runtime_error(where + " has a bad shape");
      e.shape.push_back(dim);
      numel *= dim;
      if (numel > (1LL << 40)) throw std::runtime_error(where + " is implausibly large");
    }
    std::uint64_t begin = 0, end = 0;
    if (offsets.at(0).get(begin) || offsets.at(1).get(end) || begin > end || end > data_size)
      throw std::runtime_error(where + " has data offsets outside the file");
    if (end - begin != static_cast<std::uint64_t>(numel) * kernels::dtype_size(e.tensor.dtype))
      throw std::runtime_error(where + ": its byte range does not match its shape and dtype");
    ranges.emplace_back(begin, end);
    e.tensor.owner = file_;
    e.tensor.data = data + begin;
    e.tensor.rows = e.shape.size() >= 2 ? numel / e.shape.back() : 1;
    e.tensor.cols = e.shape.empty() ? 1 : e.shape.back();
    tensors_.emplace(std::move(name), std::move(e));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw std::runtime_error(path + ": tensors overlap");
}

}  // namespace pagedserve::model
