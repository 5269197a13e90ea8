#include "mine/mine_job.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "common/output_lock.h"
#include "history/pool_groups.h"
#include "history/round_start.h"
#include "kernels/onednn_linear.h"
#include "mine/excluding_search.h"
#include "mine/input_checks.h"
#include "mine/label_coverage.h"
#include "mine/outputs.h"
#include "mine/pairs.h"
#include "mine/pool_searches.h"
#include "mine/pool_stream.h"
#include "mine/rank_merge.h"
#include "mine/summary.h"
#include "mine/targets.h"
#include "parallel/cluster.h"
#include "table/path_base.h"
#include "table/recorded_encoder.h"
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

// Of each target's top-n over the whole pool, how many rows an earlier round mined.
AlreadyMined already_mined(const std::vector<std::vector<index::Neighbor>>& results,
                           const ExcludingSearch* excluding, const history::PoolGroups& groups,
                           size_t topn) {
  if (excluding != nullptr) return count_already_mined(results, excluding->history_results(), topn);
  AlreadyMined out;
  for (const auto& hits : results) {
    for (const index::Neighbor& n : hits) {
      ++out.candidates;
      out.mined += n.pool_row < groups.in_history.size() && groups.in_history[n.pool_row] ? 1 : 0;
    }
  }
  return out;
}

// The round's record and outcome: counts, per-label yields, the forecast.
history::RoundOutcome settle_round(table::Database& db, const MineJob& job,
                                   history::RoundStart& start, const MinedList& list,
                                   const Targets& targets,
                                   const std::unordered_map<uint64_t, PoolRowInfo>& seen,
                                   const AlreadyMined& already, const MineReport& report,
                                   history::RoundRecord& record, history::RoundRows& rows) {
  const history::MiningHistory& h = *start.history;
  const history::PoolGroups& g = start.groups;
  std::unordered_set<uint64_t> mined_rows;
  for (const MinedImage& m : list.images)
    mined_rows.insert(m.pool_row);
  const auto row_groups = history::groups_of_rows(db, start.pool, mined_rows);
  for (const MinedImage& m : list.images) {
    const history::RowGroup& rg = row_groups.at(m.pool_row);
    rows.filepath.push_back(seen.at(m.pool_row).path);
    rows.group.push_back(rg.group);
    rows.target.push_back(targets.paths[m.best->target]);
    rows.distance.push_back(m.best->neighbour.distance);
    rows.label.push_back(rg.label);
    if (g.has_labels) ++record.mined_per_label[rg.label];
  }
  record.round = h.round();
  record.time = history::local_time_now();
  record.command = job.history.command.empty() ? "mine" : job.history.command;
  record.spec = job.spec;
  record.inputs = {history::identify_input(db, "targets", job.target, report.queries),
                   history::identify_input(db, "pool", job.source, report.pool_size)};
  record.counts = {.targets = report.queries,
                   .pool_rows = report.pool_size,
                   .excluded_by_history = job.history.exclude ? g.in_history_rows : 0,
                   .candidates = already.candidates,
                   .candidates_already_mined = already.mined,
                   .mined = list.images.size(),
                   .capped = report.dropped_by_cap};
  record.pool_rows_per_label = g.rows_per_label;
  if (g.has_labels) {
    for (const auto& [label, n] : g.rows_per_label)
      record.mined_per_label.try_emplace(label, 0);
  }

  history::RoundOutcome o = history::close_round(h, g, job.history, start.group_column, record,
                                                 fmt::format("topn (now {})", job.topn));
  if (job.filter_by_label && job.label_mode == LabelMode::kAfter &&
      2 * report.dropped_by_label > report.neighbours && report.neighbours > 0) {
    o.actions.push_back(fmt::format(
        "{} of {} pairs were dropped by the label filter: switch to label_mode=within, which "
        "searches among the pool rows of each target's label.",
        report.dropped_by_label, report.neighbours));
  }
  return o;
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
  report.coverage = label_coverage(db, {.targets = job.target,
                                        .pool = job.source,
                                        .topn = job.topn,
                                        .compare = job.label_compare,
                                        .target_key = target_key});
  for (std::string& w : report_coverage(report.coverage, job.strict))
    report.warnings.push_back(std::move(w));
  const fs::path pool_base = table::path_base_of(db, pool_reader);
  // The history (before any vector is read): locked, verified, the pool's rows in it.
  history::RoundStart round;
  history::open_round(
      db, job.history,
      {.table = job.source, .filepath_column = table::kFilepathColumn, .path_base = pool_base},
      table::recorded_encoder(db, job.source), round);
  const bool excluding = round.history && job.history.exclude && round.groups.in_history_rows > 0;
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
  std::unique_ptr<index::PoolSearch> search =
      report.queries > 0 ? make_pool_search(search_context) : nullptr;
  ExcludingSearch* excluding_search = nullptr;
  // The excluded rows are searched only to count how many rank among each target's best: an
  // exact search, whatever the index (an IVF index could not even be trained on so few rows).
  MineJob exact_job = job;
  exact_job.index = "exact";
  const PoolSearchContext history_context{exact_job, targets, within, cluster.size()};
  if (search && excluding) {
    auto wrapped = std::make_unique<ExcludingSearch>(
        std::move(search), make_pool_search(history_context), round.groups.in_history, targets.dim);
    excluding_search = wrapped.get();
    search = std::move(wrapped);
  }
  report.pool_size = pool_reader.count_rows();
  PoolStream pool(db, job, report.pool_size, pool_label_kind, targets, search.get());
  pool.run();
  std::unordered_map<uint64_t, PoolRowInfo>& seen = pool.seen();

  // Pairs, filters, dedup.
  std::vector<Pair> pairs;
  AlreadyMined already;
  if (search) {
    std::vector<std::vector<index::Neighbor>> results = search->finish();
    report.index = search->describe();
    if (cluster.size() > 1) {
      // Every rank's local top-n to rank 0, merged there with the same order (distance, then
      // pool row): the global top-n is among them. The other ranks are done. With a history,
      // the excluded rows' own nearest are merged the same way first (their paths are not
      // needed: only how many rank among each target's best).
      std::vector<std::vector<index::Neighbor>> history_merged;
      if (excluding_search != nullptr) {
        std::unordered_map<uint64_t, PoolRowInfo> no_paths;
        for (const auto& hits : excluding_search->history_results()) {
          for (const index::Neighbor& n : hits)
            no_paths.try_emplace(n.pool_row);
        }
        history_merged =
            merge_on_root(cluster, excluding_search->history_results(), no_paths, job.topn);
      }
      const auto merged = merge_on_root(cluster, results, seen, job.topn);
      if (!cluster.root()) return report;
      results = merged;
      log::info("mining: pool split across {} MPI ranks, merged on rank 0", cluster.size());
      if (round.history) {
        already = excluding_search != nullptr
                      ? count_already_mined(results, history_merged, job.topn)
                      : already_mined(results, nullptr, round.groups, job.topn);
      }
    } else if (round.history) {
      already = already_mined(results, excluding_search, round.groups, job.topn);
    }
    pairs = judge(job, results, targets, seen, filter_after, report);
  }
  report.neighbours = pairs.size();
  // Dedup by file, not by spelling or row: pool rows naming one file (`a.jpg`, `./a.jpg`, the
  // same absolute path) are one mined image.
  const auto file_of = [&](uint64_t row) {
    return table::resolve_filepath(seen.at(row).path, pool_base).string();
  };
  MinedList list = dedup_by_file(pairs, file_of);
  if (round.history && job.history.max_pool_fraction < 1.0) {
    const auto cap = static_cast<uint64_t>(job.history.max_pool_fraction *
                                           static_cast<double>(report.pool_size));
    const uint64_t before = round.history->mined_so_far();
    const uint64_t allowance = cap > before ? cap - before : 0;
    report.dropped_by_cap = cap_mined(pairs, list, allowance, file_of);
    if (report.dropped_by_cap > 0) {
      list = dedup_by_file(pairs, file_of);
      report.warnings.push_back(fmt::format(
          "max_pool_fraction {}: {} items were mined in earlier rounds and the cap is {} of the "
          "pool's {} rows, so {} of this round's images were dropped",
          job.history.max_pool_fraction, before, cap, report.pool_size, report.dropped_by_cap));
      log::warn("{}", report.warnings.back());
    }
  }
  report.unique_mined = list.images.size();
  report.duplicates_removed = list.duplicates_removed();
  report.same_file_rows = list.same_file_rows;

  history::RoundRecord record;
  history::RoundRows rows;
  if (round.history) {
    report.history =
        settle_round(db, job, round, list, targets, seen, already, report, record, rows);
  }
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
  if (round.history) {
    auto pending = history::pending_round(
        std::move(round.history), std::move(record), std::move(rows),
        {job.output, report.pairs_path, report.summary_path}, report.summary_path, "txt");
    if (job.defer_history) {
      report.pending_history = std::move(pending);  // `deft run` records it after its reports
    } else {
      pending->commit(db);
    }
  }
  return report;
}

}  // namespace deft::mine
