#pragma once
// A read-only memory map of a whole file (RAII). Checkpoints are mapped, not read: only the
// pages of the tensors actually used are loaded, and two processes share them.

#include <cstddef>
#include <filesystem>
#include <span>

namespace deft::model {

class MappedFile {
 public:
  // Throws Error(kInput) naming the file when it is missing, empty or cannot be mapped.
  explicit MappedFile(const std::filesystem::path& path);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace deft::model
