#pragma once
// The decode pipeline of `deft embed`: a reader thread reads the input table in order and cuts
// it into chunks of chunk_rows rows (skipping finished ones); decode workers read, decode and
// prepare each row's image (or find it reusable, or record why it failed) in a window of
// 2 × batch_size + 2 × workers rows; the consumer takes the chunks in order and each row once
// it is ready. Memory does not grow with the table.
//
//   Pipeline pipeline(job, embedder, reuse, reader, base, skip, same_file, threads);
//   while (auto chunk = pipeline.next_chunk()) {
//     for (size_t pos = 0; pos < chunk->rows.size(); ++pos) {
//       RowResult& r = pipeline.wait_row(*chunk, pos);   // kEmbed: r.input is the model input
//       ...
//       pipeline.release_row();
//     }
//   }

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "embed/embed_job.h"
#include "embed/embedder.h"
#include "embed/reuse_index.h"
#include "embed/same_file_rows.h"
#include "image/decode.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"

namespace deft::embed {

// One row's journey: queued → read/decoded/prepared (or reused, or failed) → consumed.
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

class Pipeline {
 public:
  // Starts the reader thread and `workers` decode workers. `done`: chunks not to read (finished
  // earlier, or another rank's).
  Pipeline(const EmbedJob& job, const Embedder& embedder, const ReuseIndex* reuse,
           table::TableReader& reader, const std::filesystem::path& base,
           const std::set<uint64_t>& done, const SameFileRows& same_file, int workers);
  // Stops and joins every thread (also when the consumer stops early).
  ~Pipeline();

  // The next chunk in input order, nullptr after the last one. Rethrows a reader failure.
  std::shared_ptr<ChunkWork> next_chunk();

  // Waits for row `pos` of `chunk`, and frees its window slot once the caller is done.
  RowResult& wait_row(ChunkWork& chunk, size_t pos);
  void release_row();

 private:
  void read_input();

  // Queues a chunk's rows for the workers and the chunk for the consumer (two chunks ahead at
  // most). False when the pipeline is stopping.
  bool submit(std::shared_ptr<ChunkWork> chunk);

  void work();

  void process(const ChunkWork::Row& row, RowResult& out) const;

  const EmbedJob& job_;
  const Embedder& embedder_;
  const ReuseIndex* reuse_;
  table::TableReader& reader_;
  std::filesystem::path base_;
  const std::set<uint64_t> done_;  // a copy: callers may pass a temporary
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

}  // namespace deft::embed
