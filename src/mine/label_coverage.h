#pragma once
// Coverage up front: for every target label, how many targets have it, how many pool rows, and
// how scarce the pool is for it (pool rows / (topn × targets)), read from the two tables'
// label columns before any image is decoded or vector read. A label no pool row has is
// reported (an error under strict); a label whose pool rows are fewer than topn × its targets
// is scarce: the rare-class list class-stratified selection can take (rare_class_list=auto).
// Labels are compared as mining compares them (label_compare).
//
//   Coverage c = label_coverage(db, {.targets = t, .pool = p, .topn = 5});
//   for (const std::string& w : report_coverage(c, strict)) ...   // throws under strict

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mine/labels.h"
#include "table/duckdb_handles.h"

namespace deft::mine {

struct LabelCount {
  std::string label;  // the comparison key ("CRACK" under label_compare=reference)
  uint64_t targets = 0;
  uint64_t pool_rows = 0;
  double scarcity = 0;  // pool_rows / (topn × targets): below 1, the pool cannot feed topn each
};

struct Coverage {
  bool checked = false;  // both tables have a label column
  std::filesystem::path targets, pool;
  size_t topn = 0;
  std::vector<LabelCount> labels;   // every target label, by name
  std::vector<std::string> absent;  // target labels no pool row has
  std::vector<std::string> scarce;  // labels with pool rows, but fewer than topn × targets
  // "CRACK 8 targets / 80 pool rows (2.00); DENT …", or why it was not checked.
  std::string words() const;
};

struct CoverageInputs {
  std::filesystem::path targets;
  std::filesystem::path pool;
  size_t topn = 5;
  LabelCompare compare = LabelCompare::kReference;
  std::string target_key = "filepath";  // the targets' name column (`text` for texts)
  std::string pool_key = "filepath";
};

// Counts labels on both sides (one scan of each table's label column); not checked when a side
// has no label column of text or integers. Throws Error(kInput) for an unreadable table.
Coverage label_coverage(table::Database& db, const CoverageInputs& inputs);

// Logs what coverage found and returns it as warnings: labels without pool rows (an
// Error(kInput) naming them when `strict`), scarce labels.
std::vector<std::string> report_coverage(const Coverage& coverage, bool strict);

}  // namespace deft::mine
