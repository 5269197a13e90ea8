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
#include "embed/chunk_embedding.h"
#include "embed/decode_pipeline.h"
#include "embed/image_file.h"
#include "embed/reuse_index.h"
#include "embed/same_file_rows.h"
#include "embed/work_folder.h"
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
      made_by = model::describe(*existing);
    }
  } catch (const Error&) {
    made_by = "something that is not an embedding parquet";
  }
  throw Error(ErrorKind::kInput,
              fmt::format("'{}' exists and was made by {}; this run uses {}", job.output.string(),
                          made_by, model::describe(fingerprint)),
              "give overwrite=true to replace it, or another output_parquet");
}

// Relative paths resolve against image_root; else the folder the table records as its base
// (a mined list or an embedding parquet read from elsewhere); else the table's own folder.
fs::path image_base(table::Database& db, const EmbedJob& job, const table::TableReader& reader) {
  const fs::path base = job.image_root.empty() ? table::path_base_of(db, reader)
                                               : fs::absolute(job.image_root).lexically_normal();
  std::error_code ec;
  if (fs::is_directory(base, ec)) return base;
  if (!job.image_root.empty()) {
    throw Error(ErrorKind::kInput, fmt::format("image_root '{}' is not a folder", base.string()));
  }
  throw Error(ErrorKind::kInput,
              fmt::format("'{}' records its relative paths as relative to '{}' ({}), which is "
                          "not a folder here",
                          job.input.string(), base.string(), table::kPathBaseKey),
              "set image_root to the folder its relative paths start from");
}

// The earlier output whose unchanged rows are copied instead of embedded, when reuse=true and
// it was made by this very encoder.
std::unique_ptr<ReuseIndex> open_reuse(table::Database& db, const EmbedJob& job,
                                       const fs::path& source,
                                       const model::EncoderFingerprint& fingerprint,
                                       const fs::path& work) {
  if (!job.reuse) return nullptr;
  std::string why_not;
  auto reuse = ReuseIndex::open(db, source, fingerprint,
                                work / fmt::format("reuse-{}.f32", parallel::Cluster::get().rank()),
                                why_not);
  if (reuse) {
    log::info("reusing unchanged rows of '{}' ({} rows)", source.string(), reuse->rows());
  } else if (!job.reuse_from.empty()) {
    log::warn("not reusing '{}': {}", job.reuse_from.string(), why_not);
  }
  return reuse;
}

// The rows of `chunks` (the last chunk may be short), for the progress line.
uint64_t rows_in_chunks(const std::set<uint64_t>& chunks, uint64_t chunk_rows, uint64_t rows) {
  uint64_t n = 0;
  for (uint64_t c : chunks)
    n += std::min(chunk_rows, rows - c * chunk_rows);
  return n;
}

// Chunks this rank does not embed: those finished earlier, and under mpirun every chunk c with
// c % ranks != rank (the parts land in one folder; rank 0 assembles them).
std::set<uint64_t> chunks_to_skip(const std::set<uint64_t>& done, uint64_t chunks) {
  const parallel::Cluster& cluster = parallel::Cluster::get();
  std::set<uint64_t> skip = done;
  for (uint64_t c = 0; c < chunks && cluster.size() > 1; ++c) {
    if (c % static_cast<uint64_t>(cluster.size()) != static_cast<uint64_t>(cluster.rank())) {
      skip.insert(c);
    }
  }
  return skip;
}

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
  const fs::path base = image_base(db, job, reader);

  refuse_output_over_inputs(job.output, "output_parquet", {{"input_parquet", job.input}});
  refuse_output_over_inputs(failed_path_for(job.output), "the failures sidecar",
                            {{"input_parquet", job.input}});
  // One run per output (rank 0 holds it for every rank of an MPI job).
  std::optional<OutputLock> lock;
  if (parallel::Cluster::get().root()) lock.emplace(job.output);
  const std::unique_ptr<Embedder> embedder = make_embedder(job.embedder);
  embedder->set_decoding(job.shrink_on_load, job.decode.apply_exif_orientation);
  const model::EncoderFingerprint& fingerprint = embedder->fingerprint();
  report.encoder = model::describe(fingerprint);
  check_existing_output(db, job, fingerprint);

  // The work folder: kept across a killed run when everything that shapes the output matches.
  const fs::path work = work_folder_for(job.output);
  const fs::path reuse_source = !job.reuse                ? fs::path()
                                : !job.reuse_from.empty() ? job.reuse_from
                                                          : job.output;
  const std::string manifest =
      make_manifest(job, fingerprint, base, rows, job.reuse ? source_identity(reuse_source) : "");
  // Under mpirun, rank 0 prepares the folder and every rank takes the chunks c with
  // c % ranks == rank; the parts land in the same folder, and rank 0 assembles them.
  const parallel::Cluster& cluster = parallel::Cluster::get();
  const std::set<uint64_t> done = prepare_work_folder(work, manifest, chunks, job.chunk_rows);
  report.resumed_chunks = done.size();
  const std::set<uint64_t> skip = chunks_to_skip(done, chunks);  // finished, or another rank's

  std::unique_ptr<ReuseIndex> reuse = open_reuse(db, job, reuse_source, fingerprint, work);

  // Rows naming an earlier row's file copy its result instead of decoding the file again.
  const SameFileRows same_file = SameFileRows::find(db, job.input, base);
  if (same_file.count() > 0) {
    log::info("{} rows name a file an earlier row names: each such file is embedded once",
              same_file.count());
  }
  log::info("embedding {} rows of '{}' with {}", rows, job.input.string(), report.encoder);
  cluster.agree([&] {  // afterwards, every rank's parts are written
    Progress progress(rows, "embedding");
    progress.skip(rows_in_chunks(skip, job.chunk_rows, rows));
    Pipeline pipeline(job, *embedder, reuse.get(), reader, base, skip, same_file, threads);
    SharedResults shared;
    while (auto chunk = pipeline.next_chunk()) {
      embed_chunk(db, job, *embedder, reuse.get(), reader, pipeline, *chunk, work, same_file,
                  shared, progress);
    }
    progress.finish();
  });
  reuse.reset();
  // Rank 0 assembles the output; the other ranks return once it has (or throw if it failed).
  cluster.agree([&] {
    if (cluster.root()) {
      assemble(db, job, embedder->fingerprint(), embedder->dim(), reader, base, work, chunks,
               report);
    }
  });
  if (!cluster.root()) return report;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  refuse_failure_rate(job, report);
  return report;
}

}  // namespace deft::embed
