#pragma once
// Rows of an earlier embedding parquet that a new run can take instead of embedding again.
//
//   auto index = embed::ReuseIndex::open(db, "pool_emb.parquet", fingerprint, work / "reuse.f32");
//   if (auto hit = index->by_stat(path, size, mtime_ns)) index->read_embedding(hit->row, out);
//
// Only the keys stay in memory (about 150 bytes per earlier row); the embeddings are copied once
// to a scratch file and read back by row, so memory does not grow with the dimension.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/file_descriptor.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"
#include "table/path_base.h"

namespace deft::embed {

class ReuseIndex {
 public:
  struct Hit {
    uint64_t row;
    table::FileIdentity identity;
  };

  // nullptr (with the reason in `why_not`) when `previous` cannot be reused: missing, another
  // encoder (exact fingerprint, compute dtype included), or written without file identities.
  static std::unique_ptr<ReuseIndex> open(table::Database& db,
                                          const std::filesystem::path& previous,
                                          const model::EncoderFingerprint& fingerprint,
                                          const std::filesystem::path& scratch,
                                          std::string& why_not);
  ~ReuseIndex();

  size_t rows() const { return rows_; }
  // The earlier row for this resolved path, if its size and mtime are the same.
  std::optional<Hit> by_stat(const std::filesystem::path& path, int64_t size,
                             int64_t mtime_ns) const;
  // An earlier row with these exact bytes (any path).
  std::optional<Hit> by_digest(const std::string& digest) const;
  // Copies that row's embedding (dim floats) to out. Thread-safe.
  void read_embedding(uint64_t row, float* out) const;

 private:
  ReuseIndex() = default;
  std::unordered_map<std::string, uint64_t> by_path_;    // resolved path → row
  std::unordered_map<std::string, uint64_t> by_digest_;  // digest → row
  std::vector<table::FileIdentity> identities_;          // by row
  size_t dim_ = 0;
  size_t rows_ = 0;
  UniqueFd fd_;  // the scratch file of embeddings, dim_ floats per earlier row
  std::filesystem::path scratch_;
};

// Key-value metadata names an embedding parquet carries (besides model::kFingerprintKey).
inline constexpr const char* kPathBaseKey = table::kPathBaseKey;

}  // namespace deft::embed
