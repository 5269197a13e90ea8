#include "select/select_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/log.h"
#include "common/output_lock.h"
#include "common/text.h"
#include "history/pool_groups.h"
#include "history/round_start.h"
#include "index/score_precision.h"
#include "kernels/onednn_linear.h"
#include "mine/excluding_search.h"
#include "mine/input_checks.h"
#include "mine/label_coverage.h"
#include "mine/targets.h"
#include "parallel/cluster.h"
#include "select/exact_nearest.h"
#include "select/exclusions.h"
#include "select/outputs.h"
#include "select/pool_table.h"
#include "select/settings.h"
#include "select/stratify.h"
#include "table/path_base.h"
#include "table/recorded_encoder.h"
#include "table/table_reader.h"

namespace deft::select {

namespace fs = std::filesystem;

namespace {

struct TargetSide {
  std::vector<std::string> paths;
  std::vector<float> vectors;  // normalised
  std::vector<float> raw;      // as read: kept for save_embeddings only
  size_t dim = 0;
  fs::path base;  // where relative paths point
};

TargetSide read_target_side(table::Database& db, const SelectJob& job) {
  table::TableReader reader(db, job.target,
                            {.columns = {job.target_filepath_column, job.target_column},
                             .filepath_column = job.target_filepath_column});
  mine::Targets t = mine::read_targets(reader, job.target_column, false);
  std::vector<float> raw = job.save_embeddings ? t.vectors : std::vector<float>();
  normalize_or_refuse(t.vectors.data(), t.paths.size(), t.dim, 0, job.target, job.target_column);
  return {std::move(t.paths), std::move(t.vectors), std::move(raw), t.dim,
          table::path_base_of(db, reader)};
}

// The state every subset's matching shares: the pool's files and search, and the files no
// later subset may take (excluded ones, and every subset's result so far).
struct Matcher {
  const SelectJob& job;
  const PoolFiles& files;
  const NearestFn& nearest;
  const ManyNearestFn& nearest_many;
  std::unordered_set<uint32_t> taken;
  SelectReport& report;

  // Matches `desired` files for `targets` among `pool_rows`; returns how many it retrieved.
  // `seeds` and `search` (else `nearest`): class_stratified's lists searched ahead, and its
  // search that also searches ahead for later subsets.
  size_t run(const std::string& name, const std::vector<size_t>& targets,
             const std::vector<uint64_t>& pool_rows, size_t desired,
             std::span<const SeedLists> seeds = {}, const NearestFn* search = nullptr) {
    SubsetSummary s{
        .name = name, .targets = targets.size(), .pool_rows = pool_rows.size(), .desired = desired};
    s.result = match_subset({.targets = targets,
                             .pool_rows = pool_rows,
                             .desired = desired,
                             .expansion = job.expansion,
                             .seeds = seeds},
                            files, taken, search != nullptr ? *search : nearest);
    for (const Pass& p : s.result.passes) {
      log::info(
          "[{}] pass {}: {} targets searched {} deep, {} satisfied, {} files merged; {:.1f} s",
          name, p.number, p.targets_searched, p.k, p.satisfied.size(), p.merged, p.seconds);
    }
    log::info("[{}] {} of {} files; stopped: {}", name, s.result.retrieved.size(), desired,
              stop_reason_name(s.result.stop));
    taken.insert(s.result.retrieved.begin(), s.result.retrieved.end());
    report.retrieved += s.result.retrieved.size();
    const size_t got = s.result.retrieved.size();
    report.subsets.push_back(std::move(s));
    return got;
  }
};

std::vector<size_t> all_indices(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

// The reference's class_stratified: rare classes in name order, each from its own pool and
// then, when short, from the non-rare pool; then non_rare on its own quota.
void run_class_stratified(Matcher& m, const SelectJob& job, const TargetSide& targets,
                          const std::vector<std::string>& pool_paths, const Detections& pool_det,
                          const Detections& target_det) {
  std::vector<bool> excluded(pool_paths.size());
  for (uint64_t row = 0; row < pool_paths.size(); ++row)
    excluded[row] = m.taken.count(m.files.file_of(row)) > 0;
  const ClassGroups groups =
      split_by_class(targets.paths, pool_paths, pool_det, target_det, job.rare_classes, excluded);
  const double total = static_cast<double>(targets.paths.size());
  std::vector<std::pair<std::string, double>> ratios;
  for (const auto& [name, g] : groups.rare)
    ratios.emplace_back(name, total > 0 ? static_cast<double>(g.targets.size()) / total : 0.0);
  ratios.emplace_back(
      "non_rare", total > 0 ? static_cast<double>(groups.non_rare.targets.size()) / total : 0.0);
  const std::map<std::string, size_t> quotas = allocate_quotas(ratios, job.desired);
  for (const auto& [name, ratio] : ratios) {
    const Group& g = name == "non_rare" ? groups.non_rare : groups.rare.at(name);
    m.report.allocation.push_back({name, g.targets.size(), ratio, quotas.at(name)});
    if (name != "non_rare") m.report.rare_target_queries += g.targets.size();
  }
  m.report.non_rare_target_queries = groups.non_rare.targets.size();
  // The subsets in the reference's order, rare classes (by name) then non_rare.
  struct Subset {
    std::string name;
    const Group* group;
    size_t quota, topn;
    std::vector<SeedLists> seeds;
  };
  std::vector<Subset> order;
  for (const auto& [name, g] : groups.rare)
    order.push_back({name, &g, quotas.at(name), subset_topn(quotas.at(name), g.targets.size())});
  order.push_back({"non_rare", &groups.non_rare, quotas.at("non_rare"),
                   subset_topn(quotas.at("non_rare"), groups.non_rare.targets.size())});
  const auto searched = [](const Subset& s) {
    return !s.group->targets.empty() && s.quota > 0 && !s.group->pool_rows.empty();
  };
  // Every subset's targets searched over its whole pool in one read of the pool, as deep as its
  // second pass asks: each subset's passes are then answered from these lists (a later
  // subset's pool only loses the files earlier ones took), not by a read of the pool each.
  // Lists as deep as the last pass could ask would spare every later read, but cost a read's
  // worth of re-scoring on a large subset (10k targets × 1M rows: +20 CPU-s against the
  // read's ~25), and most subsets are done in one or two passes.
  std::vector<SearchRequest> requests;
  std::vector<size_t> requested;  // positions in `order`
  for (size_t i = 0; i < order.size(); ++i) {
    const Subset& s = order[i];
    if (!searched(s)) continue;
    const size_t depth = std::min(deepest_k(job.expansion, 2, s.topn), s.group->pool_rows.size());
    requests.push_back({s.group->targets, s.group->pool_rows, depth});
    requested.push_back(i);
  }
  if (!requests.empty()) {
    std::vector<std::vector<std::vector<Candidate>>> lists = m.nearest_many(requests);
    for (size_t r = 0; r < requests.size(); ++r) {
      order[requested[r]].seeds.push_back({requests[r].targets, std::move(lists[r]),
                                           requests[r].k == requests[r].open_rows.size()});
    }
  }
  // A subset's pass whose targets the lists cannot answer reads the pool again; that read
  // also searches, as deep as their last pass could ask, the targets of every later subset
  // that its own first pass — run now on its lists, the pool as it stands — would leave short
  // (contended regions of the pool are shared, so when one subset needs a second read, the
  // next ones usually do too). A wrong forecast costs a read, never a different result.
  const auto search_ahead = [&](size_t current) -> NearestFn {
    return [&, current](const std::vector<size_t>& which, const std::vector<uint64_t>& open_rows,
                        size_t k) {
      std::vector<SearchRequest> batch{{which, open_rows, k}};
      std::vector<size_t> later;
      // Closed now: the files taken before this subset and the ones it holds so far.
      std::unordered_set<uint32_t> closed = m.taken;
      std::vector<bool> open(m.files.rows(), false);
      for (uint64_t row : open_rows)
        open[row] = true;
      for (uint64_t row : order[current].group->pool_rows)
        if (!open[row]) closed.insert(m.files.file_of(row));
      for (size_t j = current + 1; j < order.size(); ++j) {
        const Subset& s = order[j];
        if (!searched(s) || s.seeds.empty()) continue;
        std::vector<size_t> short_targets = first_pass_short({.targets = s.group->targets,
                                                              .pool_rows = s.group->pool_rows,
                                                              .desired = s.quota,
                                                              .expansion = job.expansion,
                                                              .seeds = s.seeds},
                                                             m.files, closed);
        if (short_targets.empty()) continue;
        std::vector<uint64_t> rows;
        for (uint64_t row : s.group->pool_rows)
          if (closed.count(m.files.file_of(row)) == 0) rows.push_back(row);
        if (rows.empty()) continue;
        const size_t depth =
            std::min(deepest_k(job.expansion, SubsetRequest{}.max_passes, s.topn), rows.size());
        batch.push_back({std::move(short_targets), std::move(rows), depth});
        later.push_back(j);
      }
      if (!later.empty()) {
        size_t ahead = 0;
        for (size_t b = 1; b < batch.size(); ++b)
          ahead += batch[b].targets.size();
        log::info("[{}] the pool read for {} targets also searches {} targets of later subsets",
                  order[current].name, which.size(), ahead);
      }
      std::vector<std::vector<std::vector<Candidate>>> lists = m.nearest_many(batch);
      for (size_t b = 1; b < batch.size(); ++b) {
        order[later[b - 1]].seeds.push_back(
            {batch[b].targets, std::move(lists[b]), batch[b].k == batch[b].open_rows.size()});
      }
      return std::move(lists.front());
    };
  };
  for (size_t i = 0; i < order.size(); ++i) {
    const Subset& s = order[i];
    if (s.group->targets.empty() || s.quota == 0) continue;
    const NearestFn search = search_ahead(i);
    size_t got = s.group->pool_rows.empty() ? 0
                                            : m.run(s.name, s.group->targets, s.group->pool_rows,
                                                    s.quota, s.seeds, &search);
    // A rare class short of its quota refills from the non-rare pool.
    if (s.group != &groups.non_rare && got < s.quota && !groups.non_rare.pool_rows.empty())
      got +=
          m.run(s.name + "_fallback", s.group->targets, groups.non_rare.pool_rows, s.quota - got);
  }
}

// The detection files, each read once: when the two keys name one file, both sides use it.
struct DetectionFiles {
  std::optional<Detections> source, target;  // target unset when it is the source's file
  bool target_is_source = false;
  const Detections* source_ptr() const { return source ? &*source : nullptr; }
  const Detections* target_ptr() const {
    return target_is_source ? source_ptr() : target ? &*target : nullptr;
  }
};

DetectionFiles read_detections(const SelectJob& job) {
  DetectionFiles d;
  if (!job.source_detections.empty())
    d.source = Detections::read(job.source_detections, job.detection_format);
  d.target_is_source =
      !job.target_detections.empty() && job.target_detections == job.source_detections;
  if (!job.target_detections.empty() && !d.target_is_source)
    d.target = Detections::read(job.target_detections, job.detection_format);
  const Detections* target_file = d.target ? &*d.target : nullptr;  // read on its own
  for (const Detections* det : {d.source_ptr(), target_file}) {
    if (det != nullptr && !det->ambiguous_basenames().empty()) {
      log::warn(
          "{} basenames name more than one image in a COCO file (e.g. '{}'): those images "
          "are matched by full path only",
          det->ambiguous_basenames().size(), det->ambiguous_basenames().front());
    }
  }
  return d;
}

// The dataset statistics of summary.json (with a detection file, or class_stratified).
void record_datasets(const SelectJob& job, const TargetSide& targets, const PoolFiles& files,
                     const DetectionFiles& det, SelectReport& report) {
  if (det.source_ptr() == nullptr && det.target_ptr() == nullptr) return;
  std::vector<std::string> target_paths = targets.paths;
  std::sort(target_paths.begin(), target_paths.end());
  target_paths.erase(std::unique(target_paths.begin(), target_paths.end()), target_paths.end());
  std::vector<std::string> selected;
  for (const SubsetSummary& s : report.subsets)
    for (uint32_t f : s.result.retrieved)
      selected.push_back(files.path(f));
  std::sort(selected.begin(), selected.end());
  report.target_dataset = dataset_stats(target_paths, det.target_ptr(), job.rare_classes);
  report.resultant_dataset = dataset_stats(selected, det.source_ptr(), job.rare_classes);
}

// Every picked pool row's vector as the table holds it, for save_embeddings.
std::map<uint64_t, std::vector<float>> picked_vectors(const PoolTable& pool,
                                                      const SelectReport& report) {
  std::vector<uint64_t> rows;
  for (const SubsetSummary& s : report.subsets)
    for (const Pass& p : s.result.passes)
      for (const SatisfiedTarget& t : p.satisfied)
        for (const Pick& pick : t.picks)
          rows.push_back(pick.pool_row);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  std::vector<std::vector<float>> vectors = pool.raw_vectors(rows);
  std::map<uint64_t, std::vector<float>> out;
  for (size_t i = 0; i < rows.size(); ++i)
    out.emplace(rows[i], std::move(vectors[i]));
  return out;
}

// exclude_path's files, counted in the report; a list covering the whole pool is said (the
// reference crashes there).
std::unordered_set<uint32_t> exclude(table::Database& db, const SelectJob& job,
                                     const PoolFiles& files, SelectReport& report) {
  std::unordered_set<uint32_t> excluded = excluded_files(db, job.exclude_path, files);
  for (uint64_t row = 0; row < files.rows(); ++row)
    report.excluded_rows += excluded.count(files.file_of(row));
  if (report.excluded_rows == files.rows() && files.rows() > 0) {
    report.warnings.push_back(fmt::format(
        "exclude_path '{}' excludes every one of the pool's {} rows: nothing can be selected",
        job.exclude_path.string(), files.rows()));
    log::warn("{}", report.warnings.back());
  }
  return excluded;
}

// rare_class_list=auto: the classes the pool is scarce for — fewer pool images with the class
// than topn × the targets with it — from the two detection files.
std::vector<std::string> scarce_classes(const std::vector<std::string>& target_paths,
                                        const std::vector<std::string>& pool_paths,
                                        const Detections& target_det, const Detections& pool_det,
                                        size_t topn) {
  const auto count = [](const std::vector<std::string>& paths, const Detections& det) {
    std::map<std::string, size_t> images;
    std::unordered_set<std::string> seen_paths;
    for (const std::string& p : paths) {
      if (!seen_paths.insert(p).second) continue;
      if (const ImageDetections* d = det.find(p)) {
        std::unordered_set<std::string> classes;
        for (const std::string& c : d->classes)
          classes.insert(ascii_lower(c));
        for (const std::string& c : classes)
          ++images[c];
      }
    }
    return images;
  };
  const std::map<std::string, size_t> targets = count(target_paths, target_det);
  const std::map<std::string, size_t> pool = count(pool_paths, pool_det);
  std::vector<std::string> rare;
  for (const auto& [name, n] : targets) {
    const auto it = pool.find(name);
    const size_t have = it == pool.end() ? 0 : it->second;
    if (have < topn * n) rare.push_back(name);
  }
  return rare;  // sorted: map order
}

// The round's record (counts, the selected files with their group ids) and its outcome.
history::RoundOutcome settle_round(table::Database& db, const SelectJob& job,
                                   history::RoundStart& round,
                                   const std::vector<std::string>& target_paths,
                                   const std::vector<std::string>& pool_paths,
                                   const mine::AlreadyMined& already, const SelectReport& report,
                                   history::RoundRecord& record, history::RoundRows& rows) {
  const std::vector<SelectedClaim> claims = selected_claims(report);
  std::unordered_set<uint64_t> picked;
  for (const SelectedClaim& c : claims)
    picked.insert(c.pool_row);
  const auto groups = history::groups_of_rows(db, round.pool, picked);
  for (const SelectedClaim& c : claims) {
    const history::RowGroup& g = groups.at(c.pool_row);
    rows.filepath.push_back(pool_paths[c.pool_row]);
    rows.group.push_back(g.group);
    rows.target.push_back(target_paths[c.target]);
    rows.distance.push_back(c.distance);
    rows.label.push_back(g.label);
    if (round.groups.has_labels) ++record.mined_per_label[g.label];
  }
  if (round.groups.has_labels) {
    for (const auto& [label, n] : round.groups.rows_per_label)
      record.mined_per_label.try_emplace(label, 0);
  }
  record.round = round.history->round();
  record.time = history::local_time_now();
  record.command = job.history.command.empty() ? "select" : job.history.command;
  record.spec = job.spec;
  record.inputs = {history::identify_input(db, "targets", job.target, target_paths.size()),
                   history::identify_input(db, "pool", job.source, pool_paths.size())};
  record.counts = {.targets = target_paths.size(),
                   .pool_rows = pool_paths.size(),
                   .excluded_by_history = report.excluded_by_history,
                   .candidates = already.candidates,
                   .candidates_already_mined = already.mined,
                   .mined = claims.size(),
                   .capped = job.desired - report.desired_after_cap};
  record.pool_rows_per_label = round.groups.rows_per_label;
  history::RoundOutcome o = history::close_round(
      *round.history, round.groups, job.history, round.group_column, record,
      fmt::format("desired_unique_count (now {}) or candidate_expansion_factor", job.desired));
  if (report.retrieved < report.desired_after_cap) {
    o.actions.push_back(fmt::format(
        "The budget was not met ({} of {}): lower desired_unique_count, or enlarge the pool.",
        report.retrieved, report.desired_after_cap));
  }
  return o;
}

}  // namespace

const char* allocation_name(Allocation a) {
  return a == Allocation::kGlobal ? "global" : "class_stratified";
}

SelectReport run_select_job(const SelectJob& job) {
  const auto started = std::chrono::steady_clock::now();
  check_settings(job);
  SelectReport report;
  kernels::set_compute_threads(job.threads);
  // DuckDB only streams the tables here: one thread is plenty, and a second holds another row
  // group of vectors in flight (hundreds of MB for 768-dim pools).
  table::Database db({.threads = 1});
  // The detection files are read first: a missing or malformed one stops the run before any
  // folder is made.
  const DetectionFiles detections = read_detections(job);
  std::optional<OutputLock> lock;  // one run per output folder; rank 0 holds it for all
  if (parallel::Cluster::get().root()) {
    create_output_dir(job.output_dir);
    lock.emplace(job.output_dir / "final_unique_files.parquet");
  }
  report.encoder_check =
      mine::check_encoders(db, job.target, job.source, job.allow_encoder_mismatch).words;
  const TargetSide targets = read_target_side(db, job);
  report.target_queries = targets.paths.size();
  // Under mpirun every rank searches its share of the pool; the matcher runs on every rank in
  // lockstep (the merged candidates are the same everywhere), and rank 0 writes the outputs.
  const parallel::Cluster& cluster = parallel::Cluster::get();
  std::optional<PoolTable> pool_holder;
  cluster.agree([&] {
    pool_holder.emplace(db, job.source, job.source_filepath_column, job.source_column,
                        job.memory_budget_mb);
  });
  const PoolTable& pool = *pool_holder;
  if (pool.dim() > 0 && targets.dim > 0 && pool.dim() != targets.dim) {
    throw Error(ErrorKind::kInput,
                fmt::format("the targets' embeddings have {} dimensions and the pool's {}: they "
                            "come from different encoders",
                            targets.dim, pool.dim()));
  }
  const PoolFiles files = PoolFiles::from_paths(pool.paths());
  report.pool_rows = pool.rows();
  report.pool_files = files.files();
  const size_t topn =
      targets.paths.empty() ? 0 : (job.desired + targets.paths.size() - 1) / targets.paths.size();
  report.coverage = mine::label_coverage(db, {.targets = job.target,
                                              .pool = job.source,
                                              .topn = std::max<size_t>(topn, 1),
                                              .target_key = job.target_filepath_column,
                                              .pool_key = job.source_filepath_column});
  for (std::string& w : mine::report_coverage(report.coverage, job.strict))
    report.warnings.push_back(std::move(w));
  history::RoundStart round;
  history::open_round(db, job.history,
                      {.table = job.source,
                       .filepath_column = job.source_filepath_column,
                       .path_base = pool.path_base()},
                      table::recorded_encoder(db, job.source), round);
  // The job as matching runs it: max_pool_fraction may lower the budget, rare_class_list=auto
  // names the classes.
  SelectJob effective = job;
  if (job.rare_classes_auto && detections.source_ptr() && detections.target_ptr()) {
    effective.rare_classes = scarce_classes(targets.paths, pool.paths(), *detections.target_ptr(),
                                            *detections.source_ptr(), std::max<size_t>(topn, 1));
    log::info(
        "rare_class_list=auto: {}",
        effective.rare_classes.empty()
            ? std::string("the pool is scarce for no class")
            : fmt::format("the pool is scarce for {}", fmt::join(effective.rare_classes, ", ")));
  }
  if (round.history && job.history.max_pool_fraction < 1.0) {
    const auto cap =
        static_cast<size_t>(job.history.max_pool_fraction * static_cast<double>(pool.rows()));
    const size_t before = round.history->mined_so_far();
    effective.desired = std::min(job.desired, cap > before ? cap - before : 0);
    if (effective.desired < job.desired) {
      report.warnings.push_back(fmt::format(
          "max_pool_fraction {}: {} files were selected in earlier rounds and the cap is {} of "
          "the pool's {} rows, so the budget is {} instead of {}",
          job.history.max_pool_fraction, before, cap, pool.rows(), effective.desired, job.desired));
      log::warn("{}", report.warnings.back());
    }
  }
  report.desired_after_cap = effective.desired;
  const NearestFn nearest = exact_nearest(pool, targets.vectors, targets.dim, job.metric);
  const ManyNearestFn nearest_many =
      exact_nearest_many(pool, targets.vectors, targets.dim, job.metric);
  Matcher m{effective, files, nearest, nearest_many, {}, report};
  if (!job.exclude_path.empty()) m.taken = exclude(db, job, files, report);
  mine::AlreadyMined already;
  if (round.history) {
    if (job.history.exclude) {
      for (uint64_t row = 0; row < files.rows(); ++row) {
        if (!round.groups.in_history[row]) continue;
        m.taken.insert(files.file_of(row));
        ++report.excluded_by_history;
      }
    }
    // Of each target's topn nearest over the whole pool, how many an earlier round took.
    if (round.groups.in_history_rows > 0 && topn > 0) {
      std::vector<uint64_t> rows(pool.rows());
      std::iota(rows.begin(), rows.end(), uint64_t{0});
      for (const auto& list : nearest(all_indices(targets.paths.size()), rows, topn)) {
        for (const Candidate& c : list) {
          ++already.candidates;
          already.mined += round.groups.in_history[c.pool_row] ? 1 : 0;
        }
      }
    } else {
      already.candidates = targets.paths.size() * std::min<size_t>(topn, pool.rows());
    }
  }
  log::info(
      "selecting {} unique files for {} targets from a pool of {} rows ({} files, {} "
      "excluded rows); pool vectors {}; exact search with {} candidates",
      job.desired, targets.paths.size(), pool.rows(), files.files(), report.excluded_rows,
      pool.in_memory() ? "held in memory after the first search"
                       : "read from the table by every search",
      index::score_precision_name(index::default_score_precision()));
  if (job.allocation == Allocation::kClassStratified) {
    run_class_stratified(m, effective, targets, pool.paths(), *detections.source_ptr(),
                         *detections.target_ptr());
  } else {
    std::vector<uint64_t> rows(pool.rows());
    std::iota(rows.begin(), rows.end(), uint64_t{0});
    m.run("global", all_indices(targets.paths.size()), rows, effective.desired);
  }
  if (!cluster.root()) return report;
  // The outputs say the budget asked for, and the rare classes matching used.
  SelectJob shown = job;
  shown.rare_classes = effective.rare_classes;
  record_datasets(shown, targets, files, detections, report);
  std::map<uint64_t, std::vector<float>> picked;  // save_embeddings: the picks as read
  if (job.save_embeddings) picked = picked_vectors(pool, report);
  history::RoundRecord record;
  history::RoundRows round_rows;
  if (round.history) {
    report.history = settle_round(db, job, round, targets.paths, pool.paths(), already, report,
                                  record, round_rows);
  }
  write_select_outputs(db, shown,
                       {.files = files,
                        .target_paths = targets.paths,
                        .target_vectors = job.save_embeddings ? &targets.raw : nullptr,
                        .pool_vectors = job.save_embeddings ? &picked : nullptr,
                        .dim = targets.dim,
                        .target_base = targets.base,
                        .pool_base = pool.path_base(),
                        .target_detections = detections.target_ptr(),
                        .pool_detections = detections.source_ptr()},
                       report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (round.history) {
    auto pending = history::pending_round(
        std::move(round.history), std::move(record), std::move(round_rows),
        {job.output_dir / "final_unique_files.parquet",
         job.output_dir / "selection_provenance.parquet", job.output_dir / "summary.json"},
        job.output_dir / "summary.json", "json");
    if (job.defer_history) {
      report.pending_history = std::move(pending);  // `deft run` records it after its reports
    } else {
      pending->commit(db);
    }
  }
  return report;
}

}  // namespace deft::select
