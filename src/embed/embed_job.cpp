#include "embed/embed_job.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fault_injection.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "common/output_lock.h"
#include "common/output_set.h"
#include "common/progress.h"
#include "embed/image_file.h"
#include "embed/reuse_index.h"
#include "embed/same_file_rows.h"
#include "kernels/onednn_linear.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/parquet_writer.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/value_columns.h"
#include "table/vector_access.h"

namespace deft::embed {
namespace fs = std::filesystem;

fs::path failed_path_for(const fs::path& output) {
  return output.parent_path() / (output.filename().string() + ".failed.parquet");
}

namespace {

// ---- one row's journey: queued → read/decoded/prepared (or reused, or failed) → consumed ----

struct RowResult {
  // kSameFile: an earlier row of this run names the same file; its result is copied.
  enum class State { kEmbed, kReused, kFailed, kSameFile };
  State state = State::kFailed;
  std::vector<float> input;  // prepared model input (kEmbed)
  table::FileIdentity identity;
  uint64_t reuse_row = 0;
  std::string failure;
};

struct ChunkWork {
  uint64_t index = 0;
  uint64_t first_row = 0;  // input row number of rows[0]
  struct Row {
    size_t data;    // which of `data` holds the row
    idx_t offset;   // the row within it
    bool has_path;  // filepath not NULL
    std::string filepath;
    std::optional<uint64_t> same_file_as;  // an earlier row of this run naming the same file
  };
  std::vector<std::shared_ptr<table::DataChunk>> data;
  std::vector<Row> rows;
  std::vector<RowResult> results;
  std::vector<uint8_t> ready;  // guarded by Pipeline::mutex
};

// Everything that decides the output: a partial run resumes only under the same manifest.
std::string make_manifest(const EmbedJob& job, const model::EncoderFingerprint& fingerprint,
                          const fs::path& base, uint64_t rows, const std::string& reuse_source) {
  // A table folder changes when any of its files does: their total size and latest mtime.
  FileStat input{true, 0, 0};
  for (const fs::path& file : table::table_files(job.input)) {
    const FileStat st = stat_regular_file(file);
    input.size += st.size;
    input.mtime_ns = std::max(input.mtime_ns, st.mtime_ns);
  }
  nlohmann::ordered_json j = {
      {"manifest", 2},  // 2: rows naming an earlier row's file copy its result
      {"input", fs::absolute(job.input).string()},
      {"input_size", input.size},
      {"input_mtime_ns", input.mtime_ns},
      {"rows", rows},
      {"chunk_rows", job.chunk_rows},
      {"encoder", nlohmann::json::parse(fingerprint.to_json())},
      {"path_base", base.string()},
      {"exif", job.decode.apply_exif_orientation},
      {"shrink_on_load", job.shrink_on_load},
      {"max_pixels", job.decode.max_pixels},
      {"reuse_source", reuse_source},
      {"reuse_by_content", job.reuse_by_content},
  };
  // fp32 vectors do not depend on the batch or the thread count (EmbedEndToEnd tests it bit for
  // bit), so finished chunks hold for any; bf16 ones do (the kernels pick other blockings and
  // accumulation orders), so a resume needs the same batch_size and threads.
  if (fingerprint.compute_dtype != "fp32") {
    j["batch_size"] = job.batch_size;
    j["threads"] = job.threads;
  }
  return j.dump(2) + "\n";
}

// The settings that differ between an earlier run's manifest and this one's, in words; "" when
// they are the same (the finished chunks can be kept).
std::string manifest_changes(const std::string& earlier, const std::string& now) {
  if (earlier == now) return "";
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(earlier);
  } catch (const nlohmann::json::exception&) {
    return "an unreadable manifest";
  }
  const nlohmann::json b = nlohmann::json::parse(now);
  std::vector<std::string> keys;
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key) || a.at(key) != value) keys.push_back(key);
  }
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key)) keys.push_back(key);
  }
  if (keys.empty()) return "";
  std::string said = fmt::format("{} changed", fmt::join(keys, ", "));
  const bool speed_only = std::all_of(keys.begin(), keys.end(), [](const std::string& k) {
    return k == "batch_size" || k == "threads";
  });
  if (speed_only) {
    said +=
        " (bf16 results depend on the batch and thread count: the chunks are embedded again "
        "so that every row comes from one setting; fp32 runs keep them)";
  }
  return said;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string source_identity(const fs::path& path) {
  const FileStat st = stat_regular_file(path);
  if (!st.ok) return "";
  return fmt::format("{} {} {}", fs::absolute(path).string(), st.size, st.mtime_ns);
}

// A file that could not be opened, said with the path deft looked at and, for a relative
// filepath, the folder it was taken from.
std::string where_it_looked(const std::string& failure, std::string_view filepath,
                            const fs::path& path, const fs::path& base, const EmbedJob& job) {
  if (fs::path(filepath).is_absolute()) return fmt::format("{}: '{}'", failure, path.string());
  return fmt::format(
      "{}: '{}' (relative to '{}'{})", failure, path.string(), base.string(),
      job.image_root.empty() ? "; set image_root if the images are elsewhere" : ", the image_root");
}

fs::path part_path(const fs::path& work, uint64_t chunk) {
  return work / fmt::format("part-{:06}.parquet", chunk);
}
fs::path failed_part_path(const fs::path& work, uint64_t chunk) {
  return work / fmt::format("failed-{:06}.parquet", chunk);
}

std::string describe(const model::EncoderFingerprint& f) {
  return fmt::format("{} ({})", model::encoder_name(f), f.compute_dtype);
}

// Refuses to replace an output made by a different encoder unless overwrite=true.
void check_existing_output(table::Database& db, const EmbedJob& job,
                           const model::EncoderFingerprint& fingerprint) {
  std::error_code ec;
  if (!fs::exists(job.output, ec) || job.overwrite) return;
  std::string made_by = "an unknown encoder (no deft.encoder metadata)";
  try {
    const auto existing =
        model::fingerprint_in(table::read_kv_metadata(db, job.output), job.output.string());
    if (existing) {
      if (model::same_encoder(*existing, fingerprint)) return;
      made_by = describe(*existing);
    }
  } catch (const Error&) {
    made_by = "something that is not an embedding parquet";
  }
  throw Error(ErrorKind::kInput,
              fmt::format("'{}' exists and was made by {}; this run uses {}", job.output.string(),
                          made_by, describe(fingerprint)),
              "give overwrite=true to replace it, or another output_parquet");
}

// ---- the pipeline: a reader thread, decode workers, and the consumer (the caller) ----

class Pipeline {
 public:
  Pipeline(const EmbedJob& job, const Embedder& embedder, const ReuseIndex* reuse,
           table::TableReader& reader, const fs::path& base, const std::set<uint64_t>& done,
           const SameFileRows& same_file, int workers)
      : job_(job),
        embedder_(embedder),
        reuse_(reuse),
        reader_(reader),
        base_(base),
        done_(done),
        same_file_(same_file) {
    permits_ = static_cast<size_t>(2 * job.batch_size + 2 * workers);
    decode_ = job.decode;
    if (job.shrink_on_load) {
      decode_.target_width = embedder.target_width();
      decode_.target_height = embedder.target_height();
    }
    reader_thread_ = std::thread([this] { read_input(); });
    for (int i = 0; i < workers; ++i)
      workers_.emplace_back([this] { work(); });
  }

  ~Pipeline() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    reader_thread_.join();
    for (std::thread& t : workers_)
      t.join();
  }

  // The next chunk in input order, nullptr after the last one. Rethrows a reader failure.
  std::shared_ptr<ChunkWork> next_chunk() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !chunks_.empty() || reader_done_; });
    if (chunks_.empty()) {
      if (reader_error_) std::rethrow_exception(reader_error_);
      return nullptr;
    }
    auto chunk = chunks_.front();
    chunks_.pop_front();
    changed_.notify_all();
    return chunk;
  }

  // Waits for row `pos` of `chunk`, and frees its window slot once the caller is done.
  RowResult& wait_row(ChunkWork& chunk, size_t pos) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return chunk.ready[pos] != 0; });
    return chunk.results[pos];
  }
  void release_row() {
    {
      std::lock_guard lock(mutex_);
      ++permits_;
    }
    changed_.notify_all();
  }

 private:
  void read_input() {
    try {
      std::shared_ptr<ChunkWork> current;
      uint64_t row = 0;
      while (table::DataChunk chunk = reader_.next_chunk()) {
        auto shared = std::make_shared<table::DataChunk>(std::move(chunk));
        const idx_t count = duckdb_data_chunk_get_size(shared->get());
        duckdb_vector paths =
            duckdb_data_chunk_get_vector(shared->get(), reader_.filepath_column());
        for (idx_t i = 0; i < count; ++i, ++row) {
          const uint64_t index = row / job_.chunk_rows;
          if (done_.count(index) != 0) continue;
          if (!current) {
            current = std::make_shared<ChunkWork>();
            current->index = index;
            current->first_row = row;
          }
          if (current->data.empty() || current->data.back() != shared) {
            current->data.push_back(shared);
          }
          const bool valid = table::is_valid(paths, i);
          // A row naming an earlier row's file copies that row's result when this process
          // embeds that row in this run (not when another rank, or a killed run, did).
          std::optional<uint64_t> same_file_as = same_file_.first_row_of(row);
          if (same_file_as && done_.count(*same_file_as / job_.chunk_rows) != 0) {
            same_file_as.reset();
          }
          current->rows.push_back({current->data.size() - 1, i, valid,
                                   valid ? std::string(table::string_at(paths, i)) : "",
                                   same_file_as});
          if ((row + 1) % job_.chunk_rows == 0) {  // the chunk's last row
            if (!submit(std::exchange(current, nullptr))) return;
          }
        }
      }
      if (current && !submit(std::exchange(current, nullptr))) return;
    } catch (...) {
      std::lock_guard lock(mutex_);
      reader_error_ = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      reader_done_ = true;
    }
    changed_.notify_all();
  }

  // Queues a chunk's rows for the workers and the chunk for the consumer (two chunks ahead at
  // most). False when the pipeline is stopping.
  bool submit(std::shared_ptr<ChunkWork> chunk) {
    chunk->results.resize(chunk->rows.size());
    chunk->ready.assign(chunk->rows.size(), 0);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return chunks_.size() < 2 || stop_; });
    if (stop_) return false;
    for (size_t pos = 0; pos < chunk->rows.size(); ++pos)
      tasks_.emplace_back(chunk, pos);
    chunks_.push_back(std::move(chunk));
    changed_.notify_all();
    return true;
  }

  void work() {
    for (;;) {
      std::pair<std::shared_ptr<ChunkWork>, size_t> task;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || (permits_ > 0 && !tasks_.empty()); });
        if (stop_) return;
        --permits_;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      auto& [chunk, pos] = task;
      process(chunk->rows[pos], chunk->results[pos]);
      {
        std::lock_guard lock(mutex_);
        chunk->ready[pos] = 1;
      }
      changed_.notify_all();
    }
  }

  void process(const ChunkWork::Row& row, RowResult& out) const {
    using State = RowResult::State;
    out.state = State::kFailed;
    if (row.same_file_as) {
      out.state = State::kSameFile;
      return;
    }
    if (!row.has_path) {
      out.failure = "filepath is NULL";
      return;
    }
    if (row.filepath.empty()) {
      out.failure = "filepath is empty";
      return;
    }
    if (std::string unsupported = unsupported_location(row.filepath); !unsupported.empty()) {
      out.failure = std::move(unsupported);
      return;
    }
    const fs::path path = table::resolve_filepath(row.filepath, base_);
    if (reuse_ != nullptr && !job_.reuse_by_content) {
      const FileStat st = stat_regular_file(path);
      if (st.ok) {
        if (auto hit = reuse_->by_stat(path, st.size, st.mtime_ns)) {
          out.state = State::kReused;
          out.reuse_row = hit->row;
          out.identity = hit->identity;
          return;
        }
      }
    }
    FileRead read = read_image_file(path);
    if (!read.failure.empty()) {
      out.failure = where_it_looked(read.failure, row.filepath, path, base_, job_);
      return;
    }
    if (reuse_ != nullptr && job_.reuse_by_content) {
      if (auto hit = reuse_->by_digest(read.identity.xxh3_128)) {
        out.state = State::kReused;
        out.reuse_row = hit->row;
        out.identity = read.identity;
        return;
      }
    }
    try {
      const preprocess::RgbImage rgb = image::decode_image(read.bytes, decode_);
      read.bytes = {};
      out.input.resize(embedder_.input_floats());
      embedder_.prepare(rgb, out.input.data());
      out.identity = std::move(read.identity);
      out.state = State::kEmbed;
    } catch (const image::DecodeError& e) {
      out.failure = e.what();
    } catch (const std::bad_alloc&) {
      out.failure = "out of memory while decoding";
    } catch (const std::exception& e) {
      out.failure = e.what();
    }
  }

  const EmbedJob& job_;
  const Embedder& embedder_;
  const ReuseIndex* reuse_;
  table::TableReader& reader_;
  fs::path base_;
  const std::set<uint64_t>& done_;
  const SameFileRows& same_file_;
  image::DecodeOptions decode_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<ChunkWork>> chunks_;
  std::deque<std::pair<std::shared_ptr<ChunkWork>, size_t>> tasks_;
  size_t permits_ = 0;
  bool stop_ = false;
  bool reader_done_ = false;
  std::exception_ptr reader_error_;
  std::thread reader_thread_;
  std::vector<std::thread> workers_;
};

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

struct ChunkCounts {
  uint64_t embedded = 0, reused = 0, failed = 0, same_file = 0;
};

// The results of rows whose file later rows name again, kept until the last of them: a vector
// and identity, or the reason the row failed.
struct SharedResult {
  bool failed = false;
  std::vector<float> vector;
  table::FileIdentity identity;
  std::string failure;
  uint64_t uses_left = 0;
};
using SharedResults = std::unordered_map<uint64_t, SharedResult>;

// Embeds one chunk's rows (in batches, in order) and writes its part files.
ChunkCounts finish_chunk(table::Database& db, const EmbedJob& job, const Embedder& embedder,
                         const ReuseIndex* reuse, const table::TableReader& reader,
                         Pipeline& pipeline, ChunkWork& chunk, const fs::path& work,
                         const SameFileRows& same_file, SharedResults& shared, Progress& progress) {
  using State = RowResult::State;
  const size_t dim = embedder.dim();
  const size_t floats = embedder.input_floats();
  const size_t n = chunk.rows.size();
  std::vector<float> embeddings(n * dim);
  std::vector<State> states(n, State::kFailed);
  std::vector<table::FileIdentity> identities(n);
  std::vector<std::string> reasons(n);  // why a row failed, for rows naming its file again
  std::vector<Failure> failures;
  std::vector<float> batch(static_cast<size_t>(job.batch_size) * floats);
  std::vector<float> batch_out(static_cast<size_t>(job.batch_size) * dim);
  std::vector<size_t> batch_rows;

  const auto fail = [&](size_t pos, std::string reason) {
    const ChunkWork::Row& row = chunk.rows[pos];
    states[pos] = State::kFailed;
    reasons[pos] = reason;
    if (job.strict) {
      throw Error(
          ErrorKind::kInput,
          fmt::format("'{}' (input row {}): {}", row.filepath, chunk.first_row + pos, reason),
          "strict=true stops at the first image that fails; without it, failed images "
          "are listed in " +
              failed_path_for(job.output).filename().string());
    }
    failures.push_back({row.filepath, row.has_path, std::move(reason), chunk.first_row + pos});
  };
  const auto run_batch = [&] {
    if (batch_rows.empty()) return;
    embedder.embed(batch.data(), batch_rows.size(), batch_out.data());
    for (size_t k = 0; k < batch_rows.size(); ++k) {
      const float* v = batch_out.data() + k * dim;
      if (!std::all_of(v, v + dim, [](float x) { return std::isfinite(x); })) {
        fail(batch_rows[k], "the encoder returned non-finite values (NaN or Inf)");
        continue;
      }
      std::copy(v, v + dim, embeddings.data() + batch_rows[k] * dim);
    }
    batch_rows.clear();
  };

  ChunkCounts counts;
  for (size_t pos = 0; pos < n; ++pos) {
    RowResult& r = pipeline.wait_row(chunk, pos);
    switch (r.state) {
      case State::kEmbed:
        std::copy(r.input.begin(), r.input.end(), batch.data() + batch_rows.size() * floats);
        r.input = {};
        batch_rows.push_back(pos);
        states[pos] = State::kEmbed;
        identities[pos] = std::move(r.identity);
        break;
      case State::kReused:
        reuse->read_embedding(r.reuse_row, embeddings.data() + pos * dim);
        states[pos] = State::kReused;
        identities[pos] = std::move(r.identity);
        break;
      case State::kFailed:
        fail(pos, std::move(r.failure));
        break;
      case State::kSameFile:  // copied below, once every row of the chunk is embedded
        states[pos] = State::kSameFile;
        break;
    }
    pipeline.release_row();
    if (batch_rows.size() == static_cast<size_t>(job.batch_size)) run_batch();
    progress.advance(1);
  }
  run_batch();

  // Rows naming an earlier row's file: that row's result, from this chunk or an earlier one.
  for (size_t pos = 0; pos < n; ++pos) {
    if (states[pos] != State::kSameFile) continue;
    const uint64_t first = *chunk.rows[pos].same_file_as;
    const std::string said = fmt::format("the same file as input row {}, which failed: ", first);
    if (first >= chunk.first_row) {
      const size_t at = first - chunk.first_row;
      if (states[at] == State::kFailed) {
        fail(pos, said + reasons[at]);
        continue;
      }
      std::copy_n(embeddings.data() + at * dim, dim, embeddings.data() + pos * dim);
      identities[pos] = identities[at];
    } else {
      const auto it = shared.find(first);
      DEFT_ASSERT(it != shared.end(), "an earlier chunk kept the result of a repeated file");
      SharedResult& kept = it->second;
      if (kept.failed) {
        fail(pos, said + kept.failure);
      } else {
        std::copy_n(kept.vector.data(), dim, embeddings.data() + pos * dim);
        identities[pos] = kept.identity;
      }
      if (--kept.uses_left == 0) shared.erase(it);
    }
  }
  // Keep what later chunks will copy.
  for (size_t pos = 0; pos < n; ++pos) {
    const uint64_t row = chunk.first_row + pos;
    uint64_t later = same_file.times_named_again(row);
    if (later == 0 || states[pos] == State::kSameFile) continue;
    for (size_t q = pos + 1; q < n; ++q)  // those in this chunk are served already
      later -= chunk.rows[q].same_file_as == row ? 1 : 0;
    if (later == 0) continue;
    SharedResult& kept = shared[row];
    kept.failed = states[pos] == State::kFailed;
    kept.failure = reasons[pos];
    if (!kept.failed) {
      kept.vector.assign(embeddings.data() + pos * dim, embeddings.data() + (pos + 1) * dim);
      kept.identity = identities[pos];
    }
    kept.uses_left = later;
  }

  for (State s : states) {
    counts.embedded += s == State::kEmbed;
    counts.reused += s == State::kReused;
    counts.same_file += s == State::kSameFile;
  }
  counts.failed = failures.size();
  std::sort(failures.begin(), failures.end(),
            [](const Failure& a, const Failure& b) { return a.row < b.row; });
  // The failures first: the embedding part is what marks the chunk done.
  if (!failures.empty()) write_failures(db, failed_part_path(work, chunk.index), failures);
  table::EmbeddingTableWriter part(
      db, reader, part_path(work, chunk.index), dim,
      {.kv_metadata = {{"deft.part.embedded", std::to_string(counts.embedded)},
                       {"deft.part.reused", std::to_string(counts.reused)},
                       {"deft.part.failed", std::to_string(counts.failed)},
                       {"deft.part.same_file", std::to_string(counts.same_file)}}},
      true);
  // Rows go out grouped by the input chunk that carries their other columns.
  size_t pos = 0;
  while (pos < n) {
    const size_t data = chunk.rows[pos].data;
    std::vector<idx_t> rows;
    std::vector<float> vectors;
    std::vector<table::FileIdentity> ids;
    for (; pos < n && chunk.rows[pos].data == data; ++pos) {
      if (states[pos] == State::kFailed) continue;
      rows.push_back(chunk.rows[pos].offset);
      vectors.insert(vectors.end(), embeddings.begin() + static_cast<std::ptrdiff_t>(pos * dim),
                     embeddings.begin() + static_cast<std::ptrdiff_t>((pos + 1) * dim));
      ids.push_back(std::move(identities[pos]));
    }
    part.append(*chunk.data[data], rows, vectors, ids);
  }
  part.commit();
  fault::chunk_finished();
  return counts;
}

uint64_t metadata_count(const std::map<std::string, std::string>& metadata, const char* key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? 0 : std::stoull(it->second);
}

void assemble(table::Database& db, const EmbedJob& job, const Embedder& embedder,
              const table::TableReader& reader, const fs::path& base, const fs::path& work,
              uint64_t chunks, EmbedReport& report);

// A run where most rows failed is not a success, even though every failure is listed: a
// table moved away from its images, a wrong image_root. The outputs stay (they are complete).
void refuse_failure_rate(const EmbedJob& job, const EmbedReport& report) {
  if (report.rows_in == 0 || report.failed == 0) return;
  const double rate = static_cast<double>(report.failed) / static_cast<double>(report.rows_in);
  if (rate <= job.max_failure_rate) return;
  throw Error(ErrorKind::kInput,
              fmt::format("{} of {} rows ({:.1f}%) failed, more than max_failure_rate={}; '{}' "
                          "and the failures with their reasons, '{}', are written",
                          report.failed, report.rows_in, 100 * rate, job.max_failure_rate,
                          job.output.string(), report.failed_path.string()),
              "the first reasons tell why (often the table moved away from its images: set "
              "image_root); max_failure_rate=1 accepts any number of failures");
}

}  // namespace

EmbedReport run_embed_job(const EmbedJob& job) {
  DEFT_ASSERT(job.chunk_rows > 0 && job.batch_size > 0, "chunk_rows and batch_size must be > 0");
  EmbedReport report;
  const auto started = std::chrono::steady_clock::now();
  const int threads = job.threads > 0
                          ? job.threads
                          : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  kernels::set_compute_threads(job.threads);

  // DuckDB only streams the input and writes the parts here: one DuckDB thread is plenty, and
  // a second would compete with the decode workers and add its allocator caches (~100 MB).
  table::Database db({.threads = 1});
  table::TableReader reader(db, job.input);
  const uint64_t rows = reader.count_rows();
  report.rows_in = rows;
  const uint64_t chunks = (rows + job.chunk_rows - 1) / job.chunk_rows;
  // Relative paths resolve against image_root; else the folder the table records as its base
  // (a mined list or an embedding parquet read from elsewhere); else the table's own folder.
  const fs::path base = job.image_root.empty() ? table::path_base_of(db, reader)
                                               : fs::absolute(job.image_root).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(base, ec)) {
    if (!job.image_root.empty()) {
      throw Error(ErrorKind::kInput, fmt::format("image_root '{}' is not a folder", base.string()));
    }
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' records its relative paths as relative to '{}' ({}), which is "
                            "not a folder here",
                            job.input.string(), base.string(), table::kPathBaseKey),
                "set image_root to the folder its relative paths start from");
  }

  refuse_output_over_inputs(job.output, "output_parquet", {{"input_parquet", job.input}});
  refuse_output_over_inputs(failed_path_for(job.output), "the failures sidecar",
                            {{"input_parquet", job.input}});
  // One run per output (rank 0 holds it for every rank of an MPI job).
  std::optional<OutputLock> lock;
  if (parallel::Cluster::get().root()) lock.emplace(job.output);
  const std::unique_ptr<Embedder> embedder = make_embedder(job.embedder);
  embedder->set_decoding(job.shrink_on_load, job.decode.apply_exif_orientation);
  const model::EncoderFingerprint& fingerprint = embedder->fingerprint();
  report.encoder = describe(fingerprint);
  check_existing_output(db, job, fingerprint);

  // The work folder: kept across a killed run when everything that shapes the output matches.
  const fs::path output = fs::absolute(job.output);
  const fs::path work = output.parent_path() / ("." + output.filename().string() + ".deft-partial");
  const fs::path reuse_source = !job.reuse                ? fs::path()
                                : !job.reuse_from.empty() ? job.reuse_from
                                                          : job.output;
  const std::string manifest =
      make_manifest(job, fingerprint, base, rows, job.reuse ? source_identity(reuse_source) : "");
  // Under mpirun, rank 0 prepares the folder and every rank takes the chunks c with
  // c % ranks == rank; the parts land in the same folder, and rank 0 assembles them.
  const parallel::Cluster& cluster = parallel::Cluster::get();
  cluster.agree([&] {  // afterwards, the folder is ready for every rank
    if (!cluster.root()) return;
    const std::string changes = fs::exists(work / "manifest.json", ec)
                                    ? manifest_changes(read_text(work / "manifest.json"), manifest)
                                    : "no earlier run";
    if (changes.empty()) {
      for (const auto& entry : fs::directory_iterator(work)) {  // half-written parts of a kill
        if (entry.path().filename().string().starts_with(".")) fs::remove(entry.path(), ec);
      }
    } else {
      if (fs::exists(work, ec)) {
        log::info("not resuming the earlier run's finished chunks in '{}': {}", work.string(),
                  changes);
      }
      fs::remove_all(work, ec);
      fs::create_directories(work);
      write_file_atomically(work / "manifest.json", manifest);
    }
  });
  std::set<uint64_t> done;
  for (uint64_t c = 0; c < chunks; ++c) {
    if (fs::exists(part_path(work, c), ec)) done.insert(c);
  }
  if (!done.empty()) {
    log::info("resuming: {} of {} chunks of {} rows were finished by an earlier run", done.size(),
              chunks, job.chunk_rows);
  }
  report.resumed_chunks = done.size();
  std::set<uint64_t> skip = done;  // finished, or another rank's
  for (uint64_t c = 0; c < chunks && cluster.size() > 1; ++c) {
    if (c % static_cast<uint64_t>(cluster.size()) != static_cast<uint64_t>(cluster.rank())) {
      skip.insert(c);
    }
  }

  std::unique_ptr<ReuseIndex> reuse;
  if (job.reuse) {
    std::string why_not;
    reuse = ReuseIndex::open(db, reuse_source, fingerprint,
                             work / fmt::format("reuse-{}.f32", cluster.rank()), why_not);
    if (reuse) {
      log::info("reusing unchanged rows of '{}' ({} rows)", reuse_source.string(), reuse->rows());
    } else if (!job.reuse_from.empty()) {
      log::warn("not reusing '{}': {}", job.reuse_from.string(), why_not);
    }
  }

  // Rows naming an earlier row's file copy its result instead of decoding the file again.
  const SameFileRows same_file = SameFileRows::find(db, job.input, base);
  if (same_file.count() > 0) {
    log::info("{} rows name a file an earlier row names: each such file is embedded once",
              same_file.count());
  }
  log::info("embedding {} rows of '{}' with {}", rows, job.input.string(), report.encoder);
  cluster.agree([&] {  // afterwards, every rank's parts are written
    Progress progress(rows, "embedding");
    uint64_t skipped = 0;
    for (uint64_t c : skip)
      skipped += std::min(job.chunk_rows, rows - c * job.chunk_rows);
    progress.skip(skipped);
    Pipeline pipeline(job, *embedder, reuse.get(), reader, base, skip, same_file, threads);
    SharedResults shared;
    while (auto chunk = pipeline.next_chunk()) {
      finish_chunk(db, job, *embedder, reuse.get(), reader, pipeline, *chunk, work, same_file,
                   shared, progress);
    }
    progress.finish();
  });
  reuse.reset();
  // Rank 0 assembles the output; the other ranks return once it has (or throw if it failed).
  cluster.agree([&] {
    if (cluster.root()) assemble(db, job, *embedder, reader, base, work, chunks, report);
  });
  if (!cluster.root()) return report;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  refuse_failure_rate(job, report);
  return report;
}

namespace {

// Every chunk's part, in order (an empty table has one empty part), into the output and the
// failures sidecar, with the run's counts in the key-value metadata.
void assemble(table::Database& db, const EmbedJob& job, const Embedder& embedder,
              const table::TableReader& reader, const fs::path& base, const fs::path& work,
              uint64_t chunks, EmbedReport& report) {
  std::error_code ec;
  const model::EncoderFingerprint& fingerprint = embedder.fingerprint();

  std::vector<fs::path> parts;
  std::vector<fs::path> failed_parts;
  for (uint64_t c = 0; c < chunks; ++c) {
    DEFT_ASSERT(fs::exists(part_path(work, c), ec), "every chunk has its part");
    parts.push_back(part_path(work, c));
    if (fs::exists(failed_part_path(work, c), ec))
      failed_parts.push_back(failed_part_path(work, c));
    const auto metadata = table::read_kv_metadata(db, parts.back());
    report.embedded += metadata_count(metadata, "deft.part.embedded");
    report.reused += metadata_count(metadata, "deft.part.reused");
    report.failed += metadata_count(metadata, "deft.part.failed");
    report.same_file_rows += metadata_count(metadata, "deft.part.same_file");
  }
  if (parts.empty()) {
    const fs::path empty = part_path(work, 0);
    table::EmbeddingTableWriter(db, reader, empty, embedder.dim(), {}, true).commit();
    parts.push_back(empty);
  }

  // The output and its sidecar are committed together: a failure before both are complete
  // leaves the previous pair as it was.
  OutputSet outputs;
  const fs::path failed = failed_path_for(job.output);
  if (!failed_parts.empty()) {
    table::concatenate_parquet(db, failed_parts, failed, {.output_set = &outputs});
    report.failed_path = failed;
  } else {
    outputs.remove_on_commit(failed);  // from an earlier run: nothing failed this time
  }
  table::WriterOptions options;
  options.row_group_rows = table::embedding_row_group_rows(embedder.dim());
  options.kv_metadata = {
      {model::kFingerprintKey, fingerprint.to_json()},
      {table::kPathBaseKey, base.string()},
      {"deft.input", fs::absolute(job.input).string()},
      {"deft.rows_in", std::to_string(report.rows_in)},
      {"deft.embedded", std::to_string(report.embedded)},
      {"deft.reused", std::to_string(report.reused)},
      {"deft.failures", std::to_string(report.failed)},
      {"deft.same_file_rows", std::to_string(report.same_file_rows)},
  };
  options.output_set = &outputs;
  table::concatenate_parquet(db, parts, job.output, options);
  outputs.commit();
  fs::remove_all(work, ec);
}

}  // namespace

}  // namespace deft::embed
