#pragma once
// Reads safetensors files: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then the raw tensor bytes.
// Tensors point into the memory mapping.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/mapped_file.hpp"
#include "model/weights.hpp"

namespace pagedserve::model {

struct SafetensorsEntry {
  HostTensor tensor;            // 2-D view (a 1-D tensor is [1, n])
  std::vector<std::int64_t> shape;
};

class SafetensorsFile {
 public:
  // Throws std::runtime_error naming the file and the tensor at fault
  // (bad header, unknown dtype, data outside the file, overlapping tensors).
  explicit SafetensorsFile(const std::string& path);

  const std::map<std::string, SafetensorsEntry>& tensors() const { return tensors_; }
  const std::string& path() const { return file_->path(); }

 private:
  std::shared_ptr<const MappedFile> file_;
  std::map<std::string, SafetensorsEntry> tensors_;
};

}  // namespace pagedserve::model
