#include "select/settings.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/output_guard.h"
#include "common/text.h"

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

void create_output_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output_dir '{}' is a file; it must be a folder", dir.string()));
  }
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot create output_dir '{}': {}", dir.string(), ec.message()));
  }
}

namespace {

void check_budget(const SelectJob& job) {
  if (job.desired == 0) {
    throw Error(ErrorKind::kUsage, "desired_unique_count must be greater than 0");
  }
}

// The keys and exclude_path: what holds whatever the two tables are.
void check_keys(const SelectJob& job) {
  check_budget(job);
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
}

}  // namespace

void check_before_tables(const SelectJob& job) {
  check_keys(job);
  // Read in full and dropped: a malformed file is found before hours of embedding.
  if (!job.source_detections.empty()) Detections::read(job.source_detections, job.detection_format);
  if (!job.target_detections.empty() && job.target_detections != job.source_detections) {
    Detections::read(job.target_detections, job.detection_format);
  }
}

// What must hold before any work, each its own one-line error naming the key.
void check_settings(const SelectJob& job) {
  // The reference's order: the budget, the two tables, then the rest.
  check_budget(job);
  require_parquet_path(job.source, "source_path");
  require_parquet_path(job.target, "target_path");
  check_keys(job);
  const std::vector<std::pair<std::string, fs::path>> inputs = {
      {"source_path", job.source}, {"target_path", job.target}, {"exclude_path", job.exclude_path}};
  for (const char* name :
       {"final_unique_files.parquet", "selection_provenance.parquet", "summary.json"}) {
    refuse_output_over_inputs(job.output_dir / name, name, inputs);
  }
}

}  // namespace deft::select
