#pragma once
// The three outputs of a mining run, committed together (an OutputSet): the mined parquet
// (filepath, then the provenance columns unless provenance=false, with key-value metadata
// that makes it readable anywhere), <output>.pairs.parquet (every pair, kept or why dropped)
// and mining_summary.txt. A failure before the last is complete leaves the previous three.
//
//   write_mining_outputs(db, job, pool_reader, {.pairs = ..., .mined = ..., ...}, report);

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mine/labels.h"
#include "mine/mine_job.h"
#include "mine/pairs.h"
#include "mine/rank_merge.h"

namespace deft::table {
class Database;
class TableReader;
}  // namespace deft::table

namespace deft::mine {

struct MiningResult {
  const std::vector<Pair>& pairs;
  const MinedList& mined;
  const std::unordered_map<uint64_t, PoolRowInfo>& seen;  // every row of `pairs`
  const std::vector<std::string>& target_paths;
  std::optional<LabelKind> pool_label_kind;  // the mined list's label column, when set
  std::filesystem::path pool_base;           // the pool's deft.path_base
  bool label_filter_ran = false;             // for the summary's filter line
};

// Fills report.pairs_path and report.summary_path. Throws Error(kRun) when a write fails.
void write_mining_outputs(table::Database& db, const MineJob& job, const table::TableReader& pool,
                          const MiningResult& r, MineReport& report);

}  // namespace deft::mine
