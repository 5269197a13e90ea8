#include "select/select_job.h"

#include <chrono>
#include <numeric>
#include <optional>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "common/output_lock.h"
#include "common/text.h"
#include "kernels/onednn_linear.h"
#include "mine/input_checks.h"
#include "mine/targets.h"
#include "select/exact_nearest.h"
#include "select/exclusions.h"
#include "select/outputs.h"
#include "select/pool_table.h"
#include "table/table_reader.h"

namespace deft::select {

namespace fs = std::filesystem;

void require_parquet_path(const fs::path& path, const std::string& key) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw Error(ErrorKind::kInput, fmt::format("{} '{}' does not exist", key, path.string()));
  }
  if (fs::is_directory(path, ec)) return;  // its *.parquet files (table_files checks there are)
  if (path.extension() != ".parquet") {
    throw Error(ErrorKind::kInput,
                fmt::format("{} '{}' is not a .parquet file", key, path.string()),
                "give an embedding parquet, or a folder of them");
  }
}

std::vector<std::string> parse_rare_classes(const std::string& list) {
  std::set<std::string> names;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    std::string name = list.substr(start, comma - start);
    const size_t first = name.find_first_not_of(" \t\n\r\f\v");
    const size_t last = name.find_last_not_of(" \t\n\r\f\v");
    if (first != std::string::npos) names.insert(ascii_lower(name.substr(first, last - first + 1)));
    start = comma + 1;
  }
  return {names.begin(), names.end()};
}

namespace {

// What must hold before any work, each its own one-line error naming the key.
void check_settings(const SelectJob& job) {
  if (job.desired == 0) {
    throw Error(ErrorKind::kUsage, "desired_unique_count must be greater than 0");
  }
  require_parquet_path(job.source, "source_path");
  require_parquet_path(job.target, "target_path");
  if (job.allocation == Allocation::kClassStratified) {
    if (job.rare_classes.empty()) {
      throw Error(ErrorKind::kUsage,
                  "allocation_policy=class_stratified needs rare_class_list (comma-separated "
                  "class names)");
    }
    if (job.source_detections.empty()) {
      throw Error(ErrorKind::kUsage,
                  "allocation_policy=class_stratified needs source_detection_file");
    }
    if (job.target_detections.empty()) {
      throw Error(ErrorKind::kUsage,
                  "allocation_policy=class_stratified needs target_detection_file");
    }
    if (job.detection_format == DetectionFormat::kNone) {
      throw Error(ErrorKind::kUsage,
                  "allocation_policy=class_stratified needs detection_format (coco or kitti)");
    }
  }
  const bool detections = !job.source_detections.empty() || !job.target_detections.empty();
  if (detections && job.detection_format == DetectionFormat::kNone) {
    throw Error(ErrorKind::kUsage,
                "detection_format is required when a detection file is given (coco or kitti)");
  }
  std::error_code ec;
  if (!job.exclude_path.empty() && !fs::exists(job.exclude_path, ec)) {
    throw Error(ErrorKind::kInput,
                fmt::format("exclude_path '{}' does not exist", job.exclude_path.string()));
  }
  for (const fs::path& file : {job.source_detections, job.target_detections}) {
    if (!file.empty() && !fs::exists(file, ec)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("detection file '{}' does not exist", file.string()));
    }
  }
  const std::vector<std::pair<std::string, fs::path>> inputs = {
      {"source_path", job.source}, {"target_path", job.target}, {"exclude_path", job.exclude_path}};
  for (const char* name :
       {"final_unique_files.parquet", "selection_provenance.parquet", "summary.json"}) {
    refuse_output_over_inputs(job.output_dir / name, name, inputs);
  }
}

// Settings whose outputs this build does not write yet: refused before any work, never
// silently left out of the outputs.
void refuse_unbuilt(const SelectJob& job) {
  const auto refuse = [](const std::string& what) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{} is not available in this build of deft yet", what),
                "run without it (allocation_policy=global, no detection files, "
                "save_embeddings=false, visualize=false)");
  };
  if (job.allocation == Allocation::kClassStratified) refuse("allocation_policy=class_stratified");
  if (!job.source_detections.empty() || !job.target_detections.empty())
    refuse("reading detection files (the per-class dataset statistics)");
  if (job.save_embeddings) refuse("save_embeddings=true");
  if (job.visualize) refuse("visualize=true");
}

struct TargetSide {
  std::vector<std::string> paths;
  std::vector<float> vectors;  // normalised
  size_t dim = 0;
};

TargetSide read_target_side(table::Database& db, const SelectJob& job) {
  table::TableReader reader(db, job.target,
                            {.columns = {job.target_filepath_column, job.target_column},
                             .filepath_column = job.target_filepath_column});
  mine::Targets t = mine::read_targets(reader, job.target_column, false);
  normalize_or_refuse(t.vectors.data(), t.paths.size(), t.dim, 0,
                      fmt::format("'{}' column '{}'", job.target.string(), job.target_column));
  return {std::move(t.paths), std::move(t.vectors), t.dim};
}

}  // namespace

SelectReport run_select_job(const SelectJob& job) {
  const auto started = std::chrono::steady_clock::now();
  check_settings(job);
  refuse_unbuilt(job);
  SelectReport report;
  kernels::set_compute_threads(job.threads);
  table::Database db({.threads = job.threads});
  fs::create_directories(job.output_dir);
  OutputLock lock(job.output_dir / "final_unique_files.parquet");
  report.encoder_check =
      mine::check_encoders(db, job.target, job.source, job.allow_encoder_mismatch).words;

  const TargetSide targets = read_target_side(db, job);
  report.target_queries = targets.paths.size();
  const PoolTable pool(db, job.source, job.source_filepath_column, job.source_column,
                       job.memory_budget_mb);
  if (pool.rows() > 0 && targets.dim > 0 && pool.dim() != targets.dim) {
    throw Error(ErrorKind::kInput,
                fmt::format("the targets' embeddings have {} dimensions and the pool's {}: they "
                            "come from different encoders",
                            targets.dim, pool.dim()));
  }
  const PoolFiles files = PoolFiles::from_paths(pool.paths());
  report.pool_rows = pool.rows();
  report.pool_files = files.files();
  std::unordered_set<uint32_t> taken;
  if (!job.exclude_path.empty()) taken = excluded_files(db, job.exclude_path, files);
  for (uint64_t row = 0; row < pool.rows(); ++row)
    report.excluded_rows += taken.count(files.file_of(row));
  if (report.excluded_rows == pool.rows() && pool.rows() > 0) {
    report.warnings.push_back(fmt::format(
        "exclude_path '{}' excludes every one of the pool's {} rows: nothing can be selected",
        job.exclude_path.string(), pool.rows()));
    log::warn("{}", report.warnings.back());
  }
  log::info(
      "selecting {} unique files for {} targets from a pool of {} rows ({} files, {} "
      "excluded rows); pool vectors {}",
      job.desired, targets.paths.size(), pool.rows(), files.files(), report.excluded_rows,
      pool.in_memory() ? "held in memory" : "streamed from the table in every pass");

  const NearestFn nearest = exact_nearest(pool, targets.vectors, targets.dim, job.metric);
  SubsetRequest request{.desired = job.desired, .expansion = job.expansion};
  request.targets.resize(targets.paths.size());
  std::iota(request.targets.begin(), request.targets.end(), size_t{0});
  request.pool_rows.resize(pool.rows());
  std::iota(request.pool_rows.begin(), request.pool_rows.end(), uint64_t{0});
  SubsetSummary global{.name = "global",
                       .targets = request.targets.size(),
                       .pool_rows = request.pool_rows.size(),
                       .desired = job.desired};
  global.result = match_subset(request, files, taken, nearest);
  for (const Pass& p : global.result.passes) {
    log::info("pass {}: {} targets searched {} deep, {} satisfied, {} files merged", p.number,
              p.targets_searched, p.k, p.satisfied.size(), p.merged);
  }
  report.retrieved = global.result.retrieved.size();
  report.subsets.push_back(std::move(global));

  write_select_outputs(db, job, {.files = files, .target_paths = targets.paths}, report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace deft::select
