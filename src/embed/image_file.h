#pragma once
// Reading the image files a table names: where a `filepath` points, and its bytes.
//
//   fs::path path = table::resolve_filepath(row_filepath, base);     // table/path_base.h
//   embed::FileRead read = embed::read_image_file(path);              // bytes + identity, or
//   if (!read.failure.empty()) ...                                    // a one-line reason

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "table/embedding_table.h"

namespace deft::embed {

// A filepath deft cannot read as a local file: a URL (s3://, http(s)://, file://), or a home
// folder (~) that only a shell would expand. Returns the reason, or "" for a local path.
std::string unsupported_location(std::string_view filepath);

// Files larger than this are refused without being read.
inline constexpr uint64_t kMaxImageFileBytes = 1ULL << 30;

struct FileStat {
  bool ok = false;
  int64_t size = 0;
  int64_t mtime_ns = 0;
};
// stat(2) of a regular file (an image, a table); ok is false for anything else (missing,
// folder, device).
FileStat stat_regular_file(const std::filesystem::path& path);

struct FileRead {
  std::vector<std::byte> bytes;
  table::FileIdentity identity;  // size and mtime of the file read (fstat), digest of its bytes
  std::string failure;           // empty when read
};

// Never blocks on a FIFO or a device (opened non-blocking, regular files only).
FileRead read_image_file(const std::filesystem::path& path);

}  // namespace deft::embed
