#pragma once
// What a unique-matching run writes into output_dir, as one output set (all or nothing):
// the per-pass parquets, final_unique_files.parquet, selection_provenance.parquet and
// summary.json. Pass files an earlier deft run left there (they carry deft.select) are
// removed with the same commit, so a folder never mixes two runs' passes.
//
//   write_select_outputs(db, job, {.files = files, .target_paths = paths}, report);

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "select/detections.h"
#include "select/matching.h"
#include "select/select_job.h"
#include "table/duckdb_handles.h"

namespace deft::select {

struct SelectResults {
  const PoolFiles& files;
  const std::vector<std::string>& target_paths;
  // save_embeddings: every target's vector as read (rows × dim), and the picked pool rows'
  // vectors as read, by pool row.
  const std::vector<float>* target_vectors = nullptr;
  const std::map<uint64_t, std::vector<float>>* pool_vectors = nullptr;
  size_t dim = 0;
  // visualize: where relative paths point, and the detections to draw.
  std::filesystem::path target_base, pool_base;
  const Detections* target_detections = nullptr;
  const Detections* pool_detections = nullptr;
};

// The per-pass file name: <subset>_iteration_<pass>_topn_<topn>.parquet.
std::string pass_file_name(const std::string& subset, const Pass& pass);

// This run's pass files as the reference reads them back (distance statistics, class sheets).
using PassFiles = std::vector<std::pair<std::string, const Pass*>>;  // (file name, pass)
// Every pass file, in file-name order (the reference's `*_iteration_*.parquet` glob).
PassFiles all_pass_files(const SelectReport& report);
// A class's: `<name>_iteration_*` in name order, then, for a rare class,
// `<name>_fallback_iteration_*`.
PassFiles class_pass_files(const SelectReport& report, const std::string& name);
// Each target's claim the first time the target appears in `files`.
std::vector<const SatisfiedTarget*> first_claims(const PassFiles& files,
                                                 const std::vector<std::string>& target_paths);

// A selected file and the claim that put it in the result.
struct SelectedClaim {
  uint32_t file;
  uint64_t pool_row;  // the row the claim picked
  size_t target;      // index into the run's targets
  double distance;
  const std::string* subset;
  int pass;
  size_t rank;         // from 1
  size_t merge_order;  // from 0, across subsets
};
// Every selected file's claim, by file id (filepath order).
std::vector<SelectedClaim> selected_claims(const SelectReport& report);

// summary.json as the reference writes it (json.dump, indent 2, ASCII, no final newline): its
// keys first, then deft's (what became of each subset, unsatisfied targets and why, the
// encoder check).
std::string summary_json(const SelectJob& job, const SelectReport& report,
                         const SelectResults& results);

void write_select_outputs(table::Database& db, const SelectJob& job, const SelectResults& results,
                          const SelectReport& report);

}  // namespace deft::select
