#include "mine/mine_job.h"

#include <chrono>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "common/output_guard.h"
#include "common/output_lock.h"
#include "kernels/onednn_linear.h"
#include "mine/input_checks.h"
#include "mine/outputs.h"
#include "mine/pairs.h"
#include "mine/pool_searches.h"
#include "mine/pool_stream.h"
#include "mine/rank_merge.h"
#include "mine/summary.h"
#include "mine/targets.h"
#include "parallel/cluster.h"
#include "table/path_base.h"
#include "table/table_reader.h"

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

// Every neighbour as a pair, kept or why dropped (label_mode=after's label filter, then
// distance_threshold), with the counts in `report`.
std::vector<Pair> judge(const MineJob& job,
                        const std::vector<std::vector<index::Neighbor>>& results,
                        const Targets& targets,
                        const std::unordered_map<uint64_t, PoolRowInfo>& seen, bool filter_after,
                        MineReport& report) {
  PairCounts counts;
  std::vector<Pair> pairs = judge_pairs(
      results, targets.labels,
      [&](uint64_t row) -> const std::optional<std::string>& { return seen.at(row).label; },
      {.by_label = filter_after,
       .compare = job.label_compare,
       .distance_threshold = job.distance_threshold},
      counts);
  report.dropped_by_label = counts.dropped_by_label;
  report.dropped_by_threshold = counts.dropped_by_threshold;
  report.null_label_pairs = counts.null_label_pairs;
  return pairs;
}

// The checks on both tables before any vector is read: the encoders agree, the threshold is
// sensible, the label filter can apply. Each outcome goes into `report`; the label plan is
// returned.
LabelPlan settle_checks(table::Database& db, const MineJob& job, table::TableReader& targets,
                        table::TableReader& pool, MineReport& report) {
  const EncoderCheckResult encoders =
      check_encoders(db, targets.path(), pool.path(), job.allow_encoder_mismatch);
  report.encoder_check_outcome = encoders.outcome;
  report.encoder_check = encoders.words;
  report.warnings = threshold_warnings(job);
  for (const std::string& w : report.warnings)
    log::warn("{}", w);
  LabelPlan labels = plan_labels(job, targets, pool);
  report.label_filter_outcome = labels.outcome;
  report.label_filter = labels.state;
  return labels;
}

}  // namespace

MineReport run_mine_job(const MineJob& job) {
  const auto started = std::chrono::steady_clock::now();
  MineReport report;
  kernels::set_compute_threads(job.threads);
  table::Database db({.threads = job.threads});
  guard_outputs(db, job);
  std::optional<OutputLock> lock;  // one run per output; rank 0 holds it for an MPI job
  if (parallel::Cluster::get().root()) lock.emplace(job.output);
  // Text targets (`deft embed-text`) are named by their text.
  const std::string target_key = key_column(db, job.target);
  table::TableReader targets_reader(db, job.target,
                                    {.columns = {target_key, job.target_column},
                                     .optional_columns = {kLabelColumn},
                                     .filepath_column = target_key});
  table::TableReader pool_reader(
      db, job.source,
      {.columns = {table::kFilepathColumn, job.source_column}, .optional_columns = {kLabelColumn}});

  const LabelPlan labels = settle_checks(db, job, targets_reader, pool_reader, report);
  const fs::path pool_base = table::path_base_of(db, pool_reader);
  const bool within = labels.apply() && job.label_mode == LabelMode::kWithin;
  const bool filter_after = labels.apply() && job.label_mode == LabelMode::kAfter;
  // The pool's labels are read whenever it has a usable label column: the mined list carries
  // them (provenance), filtered or not.
  const auto pool_label = pool_reader.label_column();
  const std::optional<LabelKind> pool_label_kind =
      pool_label ? usable_label_kind(pool_reader, *pool_label) : std::nullopt;

  Targets targets = read_targets(targets_reader, job.target_column, labels.apply());
  report.queries = targets.paths.size();
  if (report.queries > 0) {
    require_usable_vectors(targets.vectors.data(), report.queries, targets.dim, 0, job.target,
                           job.target_column, job.metric);
  }

  const parallel::Cluster& cluster = parallel::Cluster::get();
  const PoolSearchContext search_context{job, targets, within, cluster.size()};
  check_pool_search(search_context);
  const std::unique_ptr<index::PoolSearch> search =
      report.queries > 0 ? make_pool_search(search_context) : nullptr;
  report.pool_size = pool_reader.count_rows();
  PoolStream pool(db, job, report.pool_size, pool_label_kind, targets, search.get());
  pool.run();
  std::unordered_map<uint64_t, PoolRowInfo>& seen = pool.seen();

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
    pairs = judge(job, results, targets, seen, filter_after, report);
  }
  report.neighbours = pairs.size();
  // Dedup by file, not by spelling or row: pool rows naming one file (`a.jpg`, `./a.jpg`, the
  // same absolute path) are one mined image.
  const MinedList list = dedup_by_file(pairs, [&](uint64_t row) {
    return table::resolve_filepath(seen.at(row).path, pool_base).string();
  });
  report.unique_mined = list.images.size();
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
