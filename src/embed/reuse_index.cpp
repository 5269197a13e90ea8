#include "embed/reuse_index.h"

#include <cerrno>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file_descriptor.h"
#include "embed/image_file.h"
#include "table/parquet_writer.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::embed {
namespace fs = std::filesystem;

std::unique_ptr<ReuseIndex> ReuseIndex::open(table::Database& db, const fs::path& previous,
                                             const model::EncoderFingerprint& fingerprint,
                                             const fs::path& scratch, std::string& why_not) {
  std::error_code ec;
  if (!fs::is_regular_file(previous, ec)) {
    why_not = "no earlier output";
    return nullptr;
  }
  const auto metadata = table::read_kv_metadata(db, previous);
  const auto earlier = model::fingerprint_in(metadata, previous.string());
  if (!earlier) {
    why_not = "it has no encoder fingerprint";
    return nullptr;
  }
  if (!model::same_embeddings(*earlier, fingerprint)) {
    why_not = "it was made by another encoder (" + earlier->family + " " + earlier->model_id +
              ", " + earlier->compute_dtype + ")";
    return nullptr;
  }
  const auto base = metadata.find(table::kPathBaseKey);
  if (base == metadata.end()) {
    why_not = "it does not record where its paths were resolved";
    return nullptr;
  }
  table::TableReader reader(db, previous);
  const auto identity_column = reader.find_column(table::kFileIdentityColumn);
  const auto embedding_column = reader.find_column(table::kEmbeddingColumn);
  if (!identity_column || !embedding_column) {
    why_not = "it has no file identities (deft_file) to compare with";
    return nullptr;
  }

  std::unique_ptr<ReuseIndex> index(new ReuseIndex());
  index->scratch_ = scratch;
  index->fd_ = UniqueFd(::open(scratch.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!index->fd_.valid()) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot create '{}': {}", scratch.string(), errno_text()));
  }
  std::vector<float> floats;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t count = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader.rows_read() - count;
    floats.clear();
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), *embedding_column),
                             reader.column_type(*embedding_column), count, first, previous.string(),
                             index->dim_, floats);
    if (!write_all(index->fd_.get(), floats.data(), floats.size() * sizeof(float))) {
      throw Error(ErrorKind::kRun,
                  fmt::format("cannot write '{}': {}", scratch.string(), errno_text()));
    }
    duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), reader.filepath_column());
    duckdb_vector identities = duckdb_data_chunk_get_vector(chunk.get(), *identity_column);
    duckdb_vector sizes = duckdb_struct_vector_get_child(identities, 0);
    duckdb_vector mtimes = duckdb_struct_vector_get_child(identities, 1);
    duckdb_vector digests = duckdb_struct_vector_get_child(identities, 2);
    for (idx_t i = 0; i < count; ++i) {
      const uint64_t row = first + i;
      table::FileIdentity id;
      if (table::is_valid(identities, i) && table::is_valid(sizes, i) &&
          table::is_valid(mtimes, i) && table::is_valid(digests, i)) {
        id.size = static_cast<const int64_t*>(duckdb_vector_get_data(sizes))[i];
        id.mtime_ns = static_cast<const int64_t*>(duckdb_vector_get_data(mtimes))[i];
        id.xxh3_128 = std::string(table::string_at(digests, i));
      }
      index->identities_.push_back(id);
      if (id.xxh3_128.empty() || !table::is_valid(paths, i)) continue;
      const fs::path path = table::resolve_filepath(table::string_at(paths, i), base->second);
      index->by_path_[path.string()] = row;
      index->by_digest_.emplace(id.xxh3_128, row);
    }
  }
  index->rows_ = reader.rows_read();
  return index;
}

ReuseIndex::~ReuseIndex() {
  std::error_code ec;
  if (!scratch_.empty()) fs::remove(scratch_, ec);
}

std::optional<ReuseIndex::Hit> ReuseIndex::by_stat(const fs::path& path, int64_t size,
                                                   int64_t mtime_ns) const {
  const auto it = by_path_.find(path.string());
  if (it == by_path_.end()) return std::nullopt;
  const table::FileIdentity& earlier = identities_[it->second];
  if (earlier.size != size || earlier.mtime_ns != mtime_ns) return std::nullopt;
  return Hit{it->second, earlier};
}

std::optional<ReuseIndex::Hit> ReuseIndex::by_digest(const std::string& digest) const {
  const auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return std::nullopt;
  return Hit{it->second, identities_[it->second]};
}

void ReuseIndex::read_embedding(uint64_t row, float* out) const {
  const size_t bytes = dim_ * sizeof(float);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd_.get(), reinterpret_cast<char*>(out) + done, bytes - done,
                              static_cast<off_t>(row * bytes + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorKind::kRun,
                  fmt::format("cannot read '{}': {}", scratch_.string(), errno_text()));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace deft::embed
