#pragma once
// A read-only memory mapping of a whole file, shared by the tensors that
// point into it (HostTensor::owner), so large checkpoints are never copied.

#include <cstddef>
#include <memory>
#include <string>

namespace pagedserve::model {

class MappedFile {
 public:
  // Throws std::runtime_error naming the path when it cannot be opened.
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const std::byte* data_;
  std::size_t size_;
};

}  // namespace pagedserve::model
