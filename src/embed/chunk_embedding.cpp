#include "embed/chunk_embedding.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/finite.h"
#include "common/progress.h"
#include "embed/work_folder.h"
#include "table/value_columns.h"

namespace deft::embed {

namespace fs = std::filesystem;

namespace {

struct Failure {
  std::string filepath;
  bool has_path;
  std::string reason;
  uint64_t row;
};

void write_failures(table::Database& db, const fs::path& path,
                    const std::vector<Failure>& failures) {
  using Kind = table::ValueColumn::Kind;
  auto filepath = table::ValueColumn::of("filepath", Kind::kText);
  auto reason = table::ValueColumn::of("reason", Kind::kText);
  auto input_row = table::ValueColumn::of("input_row", Kind::kInt);
  for (const Failure& f : failures) {
    filepath.text.push_back(f.has_path ? std::optional(f.filepath) : std::nullopt);
    reason.text.emplace_back(f.reason);
    input_row.ints.emplace_back(static_cast<int64_t>(f.row));
  }
  table::write_value_columns(db, path, {filepath, reason, input_row});
}

class ChunkEmbedding {
 public:
  ChunkEmbedding(const EmbedJob& job, const Embedder& embedder, ChunkWork& chunk)
      : job_(job),
        embedder_(embedder),
        chunk_(chunk),
        dim_(embedder.dim()),
        floats_(embedder.input_floats()),
        embeddings_(chunk.rows.size() * dim_),
        states_(chunk.rows.size(), RowResult::State::kFailed),
        identities_(chunk.rows.size()),
        reasons_(chunk.rows.size()),
        batch_(static_cast<size_t>(job.batch_size) * floats_),
        batch_out_(static_cast<size_t>(job.batch_size) * dim_) {}

  // Each row's outcome from the pipeline, in order; full batches embedded as they fill.
  void take_rows(Pipeline& pipeline, const ReuseIndex* reuse, Progress& progress);
  // Rows naming an earlier row's file: that row's result, from this chunk or an earlier one.
  void copy_same_file_results(SharedResults& shared);
  // Keeps what later chunks will copy.
  void keep_for_later(const SameFileRows& same_file, SharedResults& shared);
  // The failures part, then the embedding part (which marks the chunk finished).
  ChunkCounts write_parts(table::Database& db, const table::TableReader& reader,
                          const fs::path& work);

 private:
  void fail(size_t pos, std::string reason);
  void run_batch();

  const EmbedJob& job_;
  const Embedder& embedder_;
  ChunkWork& chunk_;
  size_t dim_;
  size_t floats_;
  std::vector<float> embeddings_;
  std::vector<RowResult::State> states_;
  std::vector<table::FileIdentity> identities_;
  std::vector<std::string> reasons_;  // why a row failed, for rows naming its file again
  std::vector<Failure> failures_;
  std::vector<float> batch_;
  std::vector<float> batch_out_;
  std::vector<size_t> batch_rows_;
};

void ChunkEmbedding::fail(size_t pos, std::string reason) {
  const ChunkWork::Row& row = chunk_.rows[pos];
  states_[pos] = RowResult::State::kFailed;
  reasons_[pos] = reason;
  if (job_.strict) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("'{}' (input row {}): {}", row.filepath, chunk_.first_row + pos, reason),
        "strict=true stops at the first image that fails; without it, failed images "
        "are listed in " +
            failed_path_for(job_.output).filename().string());
  }
  failures_.push_back({row.filepath, row.has_path, std::move(reason), chunk_.first_row + pos});
}

void ChunkEmbedding::run_batch() {
  if (batch_rows_.empty()) return;
  embedder_.embed(batch_.data(), batch_rows_.size(), batch_out_.data());
  for (size_t k = 0; k < batch_rows_.size(); ++k) {
    const float* v = batch_out_.data() + k * dim_;
    if (!all_finite(v, dim_)) {
      fail(batch_rows_[k], "the encoder returned non-finite values (NaN or Inf)");
      continue;
    }
    std::copy(v, v + dim_, embeddings_.data() + batch_rows_[k] * dim_);
  }
  batch_rows_.clear();
}

void ChunkEmbedding::take_rows(Pipeline& pipeline, const ReuseIndex* reuse, Progress& progress) {
  using State = RowResult::State;
  for (size_t pos = 0; pos < chunk_.rows.size(); ++pos) {
    RowResult& r = pipeline.wait_row(chunk_, pos);
    switch (r.state) {
      case State::kEmbed:
        std::copy(r.input.begin(), r.input.end(), batch_.data() + batch_rows_.size() * floats_);
        r.input = {};
        batch_rows_.push_back(pos);
        states_[pos] = State::kEmbed;
        identities_[pos] = std::move(r.identity);
        break;
      case State::kReused:
        reuse->read_embedding(r.reuse_row, embeddings_.data() + pos * dim_);
        states_[pos] = State::kReused;
        identities_[pos] = std::move(r.identity);
        break;
      case State::kFailed:
        fail(pos, std::move(r.failure));
        break;
      case State::kSameFile:  // copied once every row of the chunk is embedded
        states_[pos] = State::kSameFile;
        break;
    }
    pipeline.release_row();
    if (batch_rows_.size() == static_cast<size_t>(job_.batch_size)) run_batch();
    progress.advance(1);
  }
  run_batch();
}

void ChunkEmbedding::copy_same_file_results(SharedResults& shared) {
  using State = RowResult::State;
  for (size_t pos = 0; pos < chunk_.rows.size(); ++pos) {
    if (states_[pos] != State::kSameFile) continue;
    const uint64_t first = *chunk_.rows[pos].same_file_as;
    const std::string said = fmt::format("the same file as input row {}, which failed: ", first);
    float* to = embeddings_.data() + pos * dim_;
    if (first >= chunk_.first_row) {
      const size_t at = first - chunk_.first_row;
      if (states_[at] == State::kFailed) {
        fail(pos, said + reasons_[at]);
        continue;
      }
      std::copy_n(embeddings_.data() + at * dim_, dim_, to);
      identities_[pos] = identities_[at];
      continue;
    }
    const auto it = shared.find(first);
    DEFT_ASSERT(it != shared.end(), "an earlier chunk kept the result of a repeated file");
    const SharedResult& kept = it->second;
    if (kept.failed) {
      fail(pos, said + kept.failure);
    } else {
      std::copy_n(kept.vector.data(), dim_, to);
      identities_[pos] = kept.identity;
    }
    if (--it->second.uses_left == 0) shared.erase(it);
  }
}

void ChunkEmbedding::keep_for_later(const SameFileRows& same_file, SharedResults& shared) {
  using State = RowResult::State;
  const size_t n = chunk_.rows.size();
  for (size_t pos = 0; pos < n; ++pos) {
    const uint64_t row = chunk_.first_row + pos;
    uint64_t later = same_file.times_named_again(row);
    if (later == 0 || states_[pos] == State::kSameFile) continue;
    for (size_t q = pos + 1; q < n; ++q)  // those in this chunk are served already
      later -= chunk_.rows[q].same_file_as == row ? 1 : 0;
    if (later == 0) continue;
    SharedResult& kept = shared[row];
    kept.failed = states_[pos] == State::kFailed;
    kept.failure = reasons_[pos];
    if (!kept.failed) {
      kept.vector.assign(embeddings_.data() + pos * dim_, embeddings_.data() + (pos + 1) * dim_);
      kept.identity = identities_[pos];
    }
    kept.uses_left = later;
  }
}

ChunkCounts ChunkEmbedding::write_parts(table::Database& db, const table::TableReader& reader,
                                        const fs::path& work) {
  using State = RowResult::State;
  ChunkCounts counts;
  for (State s : states_) {
    counts.embedded += s == State::kEmbed;
    counts.reused += s == State::kReused;
    counts.same_file += s == State::kSameFile;
  }
  counts.failed = failures_.size();
  std::sort(failures_.begin(), failures_.end(),
            [](const Failure& a, const Failure& b) { return a.row < b.row; });
  // The failures first: the embedding part is what marks the chunk done.
  if (!failures_.empty()) write_failures(db, failed_part_path(work, chunk_.index), failures_);
  table::EmbeddingTableWriter part(
      db, reader, part_path(work, chunk_.index), dim_,
      {.kv_metadata = {{"deft.part.embedded", std::to_string(counts.embedded)},
                       {"deft.part.reused", std::to_string(counts.reused)},
                       {"deft.part.failed", std::to_string(counts.failed)},
                       {"deft.part.same_file", std::to_string(counts.same_file)}}},
      true);
  // Rows go out grouped by the input chunk that carries their other columns.
  const size_t n = chunk_.rows.size();
  size_t pos = 0;
  while (pos < n) {
    const size_t data = chunk_.rows[pos].data;
    std::vector<idx_t> rows;
    std::vector<float> vectors;
    std::vector<table::FileIdentity> ids;
    for (; pos < n && chunk_.rows[pos].data == data; ++pos) {
      if (states_[pos] == State::kFailed) continue;
      rows.push_back(chunk_.rows[pos].offset);
      vectors.insert(vectors.end(), embeddings_.begin() + static_cast<std::ptrdiff_t>(pos * dim_),
                     embeddings_.begin() + static_cast<std::ptrdiff_t>((pos + 1) * dim_));
      ids.push_back(std::move(identities_[pos]));
    }
    part.append(*chunk_.data[data], rows, vectors, ids);
  }
  part.commit();
  fault::chunk_finished();
  return counts;
}

}  // namespace

ChunkCounts embed_chunk(table::Database& db, const EmbedJob& job, const Embedder& embedder,
                        const ReuseIndex* reuse, const table::TableReader& reader,
                        Pipeline& pipeline, ChunkWork& chunk, const fs::path& work,
                        const SameFileRows& same_file, SharedResults& shared, Progress& progress) {
  ChunkEmbedding c(job, embedder, chunk);
  c.take_rows(pipeline, reuse, progress);
  c.copy_same_file_results(shared);
  c.keep_for_later(same_file, shared);
  return c.write_parts(db, reader, work);
}

}  // namespace deft::embed
