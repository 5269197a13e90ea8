#include "mine/mine_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "common/output_lock.h"
#include "common/output_set.h"
#include "common/progress.h"
#include "index/approximate_search.h"
#include "index/exact_search.h"
#include "kernels/onednn_linear.h"
#include "mine/input_checks.h"
#include "mine/labels.h"
#include "mine/outputs.h"
#include "mine/pairs.h"
#include "mine/pool_searches.h"
#include "mine/rank_merge.h"
#include "mine/summary.h"
#include "mine/targets.h"
#include "model/fingerprint.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/parquet_writer.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/value_columns.h"
#include "table/vector_access.h"

namespace deft::mine {

namespace fs = std::filesystem;

fs::path pairs_path_for(const fs::path& output) {
  return output.parent_path() / (output.filename().string() + ".pairs.parquet");
}

fs::path summary_path_for(const fs::path& output) {
  return output.parent_path() / "mining_summary.txt";
}

namespace {

constexpr const char* kLabelColumn = table::kLabelColumn;

}  // namespace

MineReport run_mine_job(const MineJob& job) {
  const auto started = std::chrono::steady_clock::now();
  MineReport report;
  kernels::set_compute_threads(job.threads);
  table::Database db({.threads = job.threads});
  guard_outputs(db, job);
  std::optional<OutputLock> lock;  // one run per output; rank 0 holds it for an MPI job
  if (parallel::Cluster::get().root()) lock.emplace(job.output);
  table::TableReader targets_reader(
      db, job.target,
      {.columns = {table::kFilepathColumn, job.target_column}, .optional_columns = {kLabelColumn}});
  table::TableReader pool_reader(
      db, job.source,
      {.columns = {table::kFilepathColumn, job.source_column}, .optional_columns = {kLabelColumn}});

  report.encoder_check = check_encoders(db, job, targets_reader, pool_reader);
  const fs::path pool_base = table::path_base_of(db, pool_reader);
  report.warnings = threshold_warnings(job);
  for (const std::string& w : report.warnings)
    log::warn("{}", w);
  const LabelPlan labels = plan_labels(job, targets_reader, pool_reader);
  report.label_filter = labels.state;
  const bool within = labels.apply && job.label_mode == LabelMode::kWithin;
  const bool filter_after = labels.apply && job.label_mode == LabelMode::kAfter;
  // The pool's labels are read whenever it has a usable label column: the mined list carries
  // them (provenance), filtered or not.
  const auto pool_label = pool_reader.label_column();
  const std::optional<LabelKind> pool_label_kind =
      pool_label ? usable_label_kind(pool_reader, *pool_label) : std::nullopt;

  Targets targets = read_targets(targets_reader, job.target_column, labels.apply);
  report.queries = targets.paths.size();
  if (report.queries > 0) {
    require_usable_vectors(targets.vectors.data(), report.queries, targets.dim, 0, job.target,
                           job.target_column, job.metric);
  }

  // The pool, block by block: under mpirun, this rank's contiguous share of its rows (parquet:
  // only those row groups are read).
  const parallel::Cluster& cluster = parallel::Cluster::get();
  const uint64_t pool_total = pool_reader.count_rows();
  const auto [share_begin, share_end] = cluster.share(pool_total);
  table::TableReader pool_share(db, job.source,
                                {.columns = {table::kFilepathColumn, job.source_column},
                                 .optional_columns = {kLabelColumn},
                                 .first_row = share_begin,
                                 .end_row = share_end});
  const uint64_t row_base = pool_share.row_range_applied() ? share_begin : 0;
  const uint64_t pool_rows = std::max<uint64_t>(share_end - share_begin, 1);
  Progress progress(pool_rows, "mining");
  const PoolSearchContext search_context{job, targets, within, cluster.size()};
  check_pool_search(search_context);
  const std::unique_ptr<index::PoolSearch> search =
      report.queries > 0 ? make_pool_search(search_context) : nullptr;
  // What the outputs need of pool rows: of those among someone's best so far when the search
  // knows them as it goes (exact), else of every row.
  std::unordered_map<uint64_t, PoolRowInfo> seen;
  const size_t vector_column = *pool_reader.find_column(job.source_column);
  const std::string where = fmt::format("'{}' column '{}'", job.source.string(), job.source_column);
  size_t dim = 0;
  size_t block_rows = 0;
  std::vector<float> block;          // block_rows vectors, allocated once
  std::vector<float> chunk_vectors;  // one input chunk's, reused
  std::vector<std::string> block_paths;
  std::vector<std::optional<std::string>> block_labels;
  uint64_t block_first = share_begin;

  const auto flush = [&] {
    const size_t rows = block_paths.size();
    if (rows == 0) return;
    require_usable_vectors(block.data(), rows, dim, block_first, job.source, job.source_column,
                           job.metric);
    if (search && !search->knows_best_so_far()) {
      search->add_block(block.data(), rows, block_first, block_labels);
      for (size_t i = 0; i < rows; ++i)
        seen.emplace(block_first + i, PoolRowInfo{block_paths[i], block_labels[i]});
    } else if (search) {
      search->add_block(block.data(), rows, block_first, block_labels);
      const auto best = search->results_so_far();
      // Remember what the outputs need of this block's rows that are now among the best.
      for (const auto& hits : best) {
        for (const index::Neighbor& n : hits) {
          if (n.pool_row >= block_first && n.pool_row < block_first + rows) {
            const size_t i = n.pool_row - block_first;
            seen.try_emplace(n.pool_row, PoolRowInfo{block_paths[i], block_labels[i]});
          }
        }
      }
      // Forget rows that dropped out of every list (bounds `seen` by the lists' size).
      if (seen.size() > 4 * report.queries * job.topn) {
        std::unordered_map<uint64_t, PoolRowInfo> kept;
        for (const auto& hits : best) {
          for (const index::Neighbor& n : hits)
            kept.emplace(n.pool_row, seen.at(n.pool_row));
        }
        seen.swap(kept);
      }
    }
    block_first += rows;
    progress.advance(rows);
    block_paths.clear();
    block_labels.clear();
  };

  // A failure in one rank's share (a NaN row, an unreadable row group) must stop every rank:
  // the ranks agree on it instead of waiting for each other forever.
  cluster.agree([&] {
    while (table::DataChunk chunk = pool_share.next_chunk()) {
      const idx_t n = duckdb_data_chunk_get_size(chunk.get());
      const uint64_t first = row_base + pool_share.rows_read() - n;
      const size_t had_dim = dim;
      chunk_vectors.clear();
      table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), vector_column),
                               pool_share.column_type(vector_column), n, first, where, dim,
                               chunk_vectors);
      if (had_dim == 0 && dim != 0) {
        if (report.queries > 0 && dim != targets.dim) {
          throw Error(ErrorKind::kInput,
                      fmt::format("the targets' vectors ('{}' column '{}') have {} dimensions but "
                                  "the pool's ('{}' column '{}') have {}",
                                  job.target.string(), job.target_column, targets.dim,
                                  job.source.string(), job.source_column, dim),
                      "embed both tables with the same encoder");
        }
        const double budget = job.memory_budget_mb * 1024 * 1024;
        // Half the budget for the block's vectors; the rest for copies, results and DuckDB.
        block_rows = std::max<size_t>(
            1, static_cast<size_t>(budget / 2 / (static_cast<double>(dim) * sizeof(float))));
        block_rows = std::min<uint64_t>(block_rows, pool_rows);  // small pools: small blocks
        block.resize(block_rows * dim);
      }
      duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), pool_share.filepath_column());
      for (idx_t i = 0; i < n; ++i) {
        if (first + i < share_begin || first + i >= share_end) continue;  // a CSV read whole
        std::copy_n(chunk_vectors.data() + i * dim, dim, block.data() + block_paths.size() * dim);
        block_paths.emplace_back(table::is_valid(paths, i) ? table::string_at(paths, i) : "");
        block_labels.push_back(
            pool_label_kind ? label_at(duckdb_data_chunk_get_vector(chunk.get(), *pool_label),
                                       pool_share.column_type(*pool_label), i)
                            : std::nullopt);
        if (block_paths.size() == block_rows) flush();  // blocks may end inside a chunk
      }
    }
    flush();
  });
  progress.finish();
  report.pool_size = pool_total;

  // Pairs, filters, dedup.
  std::vector<Pair> pairs;
  if (search) {
    std::vector<std::vector<index::Neighbor>> results = search->finish();
    report.index = search->describe();
    if (cluster.size() > 1) {
      // Every rank's local top-n to rank 0, merged there with the same order (distance, then
      // pool row): the global top-n is among them. The other ranks are done.
      const auto merged = merge_on_root(cluster, results, seen, job.topn);
      if (!cluster.root()) return report;
      results = merged;
      log::info("mining: pool split across {} MPI ranks, merged on rank 0", cluster.size());
    }
    PairCounts counts;
    pairs = judge_pairs(
        results, targets.labels,
        [&](uint64_t row) -> const std::optional<std::string>& { return seen.at(row).label; },
        {.by_label = filter_after,
         .compare = job.label_compare,
         .distance_threshold = job.distance_threshold},
        counts);
    report.dropped_by_label = counts.dropped_by_label;
    report.dropped_by_threshold = counts.dropped_by_threshold;
    report.null_label_pairs = counts.null_label_pairs;
  }
  report.neighbours = pairs.size();

  // Dedup by file, not by spelling or row: pool rows naming one file (`a.jpg`, `./a.jpg`, the
  // same absolute path) are one mined image.
  const MinedList list = dedup_by_file(pairs, [&](uint64_t row) {
    return table::resolve_filepath(seen.at(row).path, pool_base).string();
  });
  const std::vector<MinedImage>& mined = list.images;
  report.unique_mined = mined.size();
  report.duplicates_removed = list.duplicates_removed();
  report.same_file_rows = list.same_file_rows;

  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  write_mining_outputs(db, job, pool_reader,
                       {.pairs = pairs,
                        .mined = list,
                        .seen = seen,
                        .target_paths = targets.paths,
                        .pool_label_kind = pool_label_kind,
                        .pool_base = pool_base,
                        .label_filter_ran = filter_after},
                       report);
  return report;
}

}  // namespace deft::mine
