#pragma once
// The entries of a zip archive held in memory (a mapped PyTorch checkpoint): the central
// directory read and checked against the bytes, ZIP64 included; only stored (uncompressed)
// entries, which is how torch.save writes its records.
//
//   ZipArchive zip(mapped.bytes(), path);
//   std::span<const std::byte> pickle = zip.entry("archive/data.pkl");

#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>

namespace deft::model {

class ZipArchive {
 public:
  // Throws Error(kInput) naming `path` for anything that is not a well-formed zip whose entries
  // lie inside `bytes`, and for a compressed entry.
  ZipArchive(std::span<const std::byte> bytes, const std::filesystem::path& path);

  const std::map<std::string, std::span<const std::byte>>& entries() const { return entries_; }
  // nullptr when absent.
  const std::span<const std::byte>* find(const std::string& name) const;

 private:
  std::map<std::string, std::span<const std::byte>> entries_;
};

// True when `bytes` start like a zip archive (a local file header).
bool looks_like_zip(std::span<const std::byte> bytes);

}  // namespace deft::model
