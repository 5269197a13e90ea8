#pragma once
// `deft select` / `deft tmm unique_neighbor_matching`: a budget of unique pool files spread
// over the targets, one-to-one, as the reference does it (tao-compat.md), in passes over the
// streamed exact search (select/matching.h holds the rules).
//
//   select::SelectJob job{.source = "pool_emb.parquet", .target = "targets_emb.parquet",
//                         .output_dir = "selected", .desired = 1000};
//   select::SelectReport r = select::run_select_job(job);   // throws Error
//
// Outputs in output_dir: final_unique_files.parquet (one column, sorted), one
// <subset>_iteration_<pass>_topn_<topn>.parquet per pass that satisfied a target,
// summary.json (the reference's keys first, then deft's), and selection_provenance.parquet
// (for every selected file: the target that claimed it, the subset, pass, rank, distance).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "history/mining_history.h"
#include "history/round_outcome.h"
#include "history/round_start.h"
#include "index/metric.h"
#include "mine/label_coverage.h"
#include "select/detections.h"
#include "select/matching.h"
#include "select/stats.h"

namespace deft::select {

enum class Allocation { kGlobal, kClassStratified };
// "global", "class_stratified": the allocation_policy values.
const char* allocation_name(Allocation a);

struct SelectJob {
  std::filesystem::path source;  // the pool: a .parquet file or a folder of them
  std::filesystem::path target;  // the targets: the same
  std::filesystem::path output_dir;
  size_t desired = 0;  // desired_unique_count (> 0)
  Allocation allocation = Allocation::kGlobal;
  index::Metric metric = index::Metric::kEuclidean;
  size_t expansion = 5;  // candidate_expansion_factor
  std::string source_column = "embedding";
  std::string target_column = "embedding";
  std::string source_filepath_column = "filepath";
  std::string target_filepath_column = "filepath";
  std::filesystem::path exclude_path;  // empty: none
  std::filesystem::path source_detections;
  std::filesystem::path target_detections;
  DetectionFormat detection_format = DetectionFormat::kNone;
  std::vector<std::string> rare_classes;  // lower-case, sorted, distinct
  bool save_embeddings = false;
  bool visualize = false;
  bool allow_encoder_mismatch = false;
  double memory_budget_mb = 1024;
  int threads = 0;
  std::string spec;                // the resolved spec (YAML), recorded in the outputs
  bool strict = false;             // a target label without pool rows is an error (coverage)
  bool rare_classes_auto = false;  // rare_class_list=auto: the classes the pool is scarce for
  // history=: earlier rounds' files left out, this round recorded.
  history::HistorySettings history;
  // `deft run`: the round is recorded only after the run's reports (report.pending_history).
  bool defer_history = false;
};

struct SubsetSummary {
  std::string name;  // global, a class, <class>_fallback, non_rare
  size_t targets = 0;
  size_t pool_rows = 0;
  size_t desired = 0;
  SubsetResult result;
};

// A class subset's share of the budget (class_stratified).
struct GroupAllocation {
  std::string name;  // a rare class, or non_rare
  size_t targets = 0;
  double ratio = 0;  // of all targets
  size_t desired = 0;
};

struct SelectReport {
  size_t target_queries = 0;
  size_t rare_target_queries = 0;  // class_stratified: Σ per rare class (a target per class)
  size_t non_rare_target_queries = 0;
  std::vector<GroupAllocation> allocation;     // rare classes (sorted), then non_rare
  std::optional<DatasetStats> target_dataset;  // with a detection file
  std::optional<DatasetStats> resultant_dataset;
  size_t pool_rows = 0;
  size_t pool_files = 0;
  size_t excluded_rows = 0;
  size_t retrieved = 0;
  std::vector<SubsetSummary> subsets;
  std::string encoder_check;
  std::vector<std::string> warnings;
  mine::Coverage coverage;                       // per target label (the tables' `label`)
  std::optional<history::RoundOutcome> history;  // with history=
  // With defer_history: the round, written but not yet recorded (PendingRound::commit).
  std::shared_ptr<history::PendingRound> pending_history;
  size_t excluded_by_history = 0;  // pool rows left out by the history
  size_t desired_after_cap = 0;    // the budget max_pool_fraction left
  double seconds = 0;
};

SelectReport run_select_job(const SelectJob& job);

}  // namespace deft::select
