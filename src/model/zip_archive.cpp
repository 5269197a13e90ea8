#include "model/zip_archive.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"

namespace deft::model {
namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kCentralFileHeader = 0x02014b50;
constexpr uint32_t kLocalFileHeader = 0x04034b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kMaxComment = 0xFFFF;

class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::filesystem::path& path)
      : bytes_(bytes), path_(path) {}

  [[noreturn]] void invalid(const std::string& problem) const {
    throw Error(
        ErrorKind::kInput,
        fmt::format("'{}' is not a readable PyTorch zip checkpoint: {}", path_.string(), problem),
        "check that the download completed, or convert the checkpoint to safetensors");
  }

  // `n` little-endian bytes at `at`, checked to lie inside the file.
  uint64_t le(uint64_t at, int n) const {
    if (at > bytes_.size() || bytes_.size() - at < static_cast<uint64_t>(n))
      invalid(
          fmt::format("a structure at byte {} runs past the end ({} bytes)", at, bytes_.size()));
    uint64_t value = 0;
    for (int i = n - 1; i >= 0; --i)
      value = (value << 8) | static_cast<uint8_t>(bytes_[at + i]);
    return value;
  }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(le(at, 4)); }
  uint16_t u16(uint64_t at) const { return static_cast<uint16_t>(le(at, 2)); }
  uint64_t u64(uint64_t at) const { return le(at, 8); }

  std::span<const std::byte> range(uint64_t at, uint64_t size, const std::string& what) const {
    if (at > bytes_.size() || bytes_.size() - at < size)
      invalid(fmt::format("{} (bytes {}…{}) lies outside the file ({} bytes)", what, at, at + size,
                          bytes_.size()));
    return bytes_.subspan(at, size);
  }

  size_t size() const { return bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
  const std::filesystem::path& path_;
};

struct Directory {
  uint64_t entries = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Directory find_directory(const Reader& r) {
  if (r.size() < kEocdSize) r.invalid("too short to be a zip archive (truncated?)");
  // The end record sits in the last 22 + comment bytes; scan back for its signature.
  const uint64_t lowest =
      r.size() >= kEocdSize + kMaxComment ? r.size() - kEocdSize - kMaxComment : 0;
  uint64_t eocd = r.size() - kEocdSize;
  while (r.u32(eocd) != kEndOfCentralDirectory) {
    if (eocd == lowest) r.invalid("no end-of-central-directory record (truncated?)");
    --eocd;
  }
  Directory d{r.u16(eocd + 10), r.u32(eocd + 16), r.u32(eocd + 12)};
  if (d.entries == 0xFFFF || d.offset == 0xFFFFFFFF || d.size == 0xFFFFFFFF) {
    if (eocd < 20 || r.u32(eocd - 20) != kZip64Locator) r.invalid("ZIP64 locator missing");
    const uint64_t record = r.u64(eocd - 20 + 8);
    if (r.u32(record) != kZip64EndOfCentralDirectory) r.invalid("ZIP64 end record missing");
    d = {r.u64(record + 32), r.u64(record + 48), r.u64(record + 40)};
  }
  r.range(d.offset, d.size, "the central directory");
  return d;
}

}  // namespace

bool looks_like_zip(std::span<const std::byte> bytes) {
  return bytes.size() >= 4 && static_cast<uint8_t>(bytes[0]) == 'P' &&
         static_cast<uint8_t>(bytes[1]) == 'K' && static_cast<uint8_t>(bytes[2]) == 3 &&
         static_cast<uint8_t>(bytes[3]) == 4;
}

ZipArchive::ZipArchive(std::span<const std::byte> bytes, const std::filesystem::path& path) {
  const Reader r(bytes, path);
  const Directory d = find_directory(r);
  uint64_t at = d.offset;
  for (uint64_t i = 0; i < d.entries; ++i) {
    if (r.u32(at) != kCentralFileHeader)
      r.invalid(fmt::format("central directory entry {} is damaged", i));
    const uint16_t method = r.u16(at + 10);
    uint64_t compressed = r.u32(at + 20);
    uint64_t uncompressed = r.u32(at + 24);
    const uint16_t name_length = r.u16(at + 28);
    const uint16_t extra_length = r.u16(at + 30);
    const uint16_t comment_length = r.u16(at + 32);
    uint64_t local = r.u32(at + 42);
    const auto name_bytes = r.range(at + 46, name_length, "an entry name");
    const std::string name(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    // ZIP64 extra field (id 1): the 64-bit values, in order, of those stored as 0xFFFFFFFF.
    for (uint64_t e = at + 46 + name_length; e + 4 <= at + 46 + name_length + extra_length;) {
      const uint16_t id = r.u16(e);
      const uint16_t length = r.u16(e + 2);
      if (id == 1) {
        uint64_t field = e + 4;
        if (uncompressed == 0xFFFFFFFF) uncompressed = r.u64(field), field += 8;
        if (compressed == 0xFFFFFFFF) compressed = r.u64(field), field += 8;
        if (local == 0xFFFFFFFF) local = r.u64(field);
      }
      e += 4 + length;
    }
    if (method != 0 || compressed != uncompressed) {
      r.invalid(
          fmt::format("entry '{}' is compressed (method {}); torch.save stores records "
                      "uncompressed",
                      name, method));
    }
    if (r.u32(local) != kLocalFileHeader)
      r.invalid(fmt::format("entry '{}' has no local header", name));
    const uint64_t data = local + 30 + r.u16(local + 26) + r.u16(local + 28);
    entries_[name] = r.range(data, compressed, fmt::format("entry '{}'", name));
    at += 46 + static_cast<uint64_t>(name_length) + extra_length + comment_length;
  }
}

const std::span<const std::byte>* ZipArchive::find(const std::string& name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace deft::model
