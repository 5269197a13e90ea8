#pragma once
// SHA-256 (FIPS 180-4) as lowercase hex, the spelling `sha256sum` prints: what the mining
// history records of each artifact, so that a user can check the manifest with the standard
// tool. (XXH3, common/digest.h, stays the fast digest for weights and reuse; SHA-256 is for
// files people verify by hand.)
//
//   std::string h = sha256_file_hex("round_0001.parquet");   // 64 hex digits
//   Sha256 s;  s.update(a, n);  s.update(b, m);  std::string h2 = s.hex();

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace deft {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest of everything updated so far (the object is finished; update no more).
  std::string hex();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

std::string sha256_hex(const void* data, size_t size);
// Throws Error(kInput) naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace deft
