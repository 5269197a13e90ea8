#include "embed/decode_pipeline.h"

#include <fmt/format.h>

#include "embed/image_file.h"
#include "table/path_base.h"
#include "table/vector_access.h"

namespace deft::embed {

namespace fs = std::filesystem;

namespace {

// A file that could not be opened, said with the path deft looked at and, for a relative
// filepath, the folder it was taken from.
std::string where_it_looked(const std::string& failure, std::string_view filepath,
                            const fs::path& path, const fs::path& base, const EmbedJob& job) {
  if (fs::path(filepath).is_absolute()) return fmt::format("{}: '{}'", failure, path.string());
  return fmt::format(
      "{}: '{}' (relative to '{}'{})", failure, path.string(), base.string(),
      job.image_root.empty() ? "; set image_root if the images are elsewhere" : ", the image_root");
}

}  // namespace

Pipeline::Pipeline(const EmbedJob& job, const Embedder& embedder, const ReuseIndex* reuse,
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

Pipeline::~Pipeline() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  reader_thread_.join();
  for (std::thread& t : workers_)
    t.join();
}

std::shared_ptr<ChunkWork> Pipeline::next_chunk() {
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

RowResult& Pipeline::wait_row(ChunkWork& chunk, size_t pos) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return chunk.ready[pos] != 0; });
  return chunk.results[pos];
}

void Pipeline::release_row() {
  {
    std::lock_guard lock(mutex_);
    ++permits_;
  }
  changed_.notify_all();
}

void Pipeline::read_input() {
  try {
    std::shared_ptr<ChunkWork> current;
    uint64_t row = 0;
    while (table::DataChunk chunk = reader_.next_chunk()) {
      auto shared = std::make_shared<table::DataChunk>(std::move(chunk));
      const idx_t count = duckdb_data_chunk_get_size(shared->get());
      duckdb_vector paths = duckdb_data_chunk_get_vector(shared->get(), reader_.filepath_column());
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

bool Pipeline::submit(std::shared_ptr<ChunkWork> chunk) {
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

void Pipeline::work() {
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

void Pipeline::process(const ChunkWork::Row& row, RowResult& out) const {
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

}  // namespace deft::embed
