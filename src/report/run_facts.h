#pragma once
// What `deft run` learned as it went, for its two reports (Mining_Report.md, report.html):
// the tables, the embedding steps, the mining or selection step, and what stopped the run.
//
//   report::RunFacts facts{.mode = report::RunMode::kUniqueMatching, ...};
//   facts.selected = select::run_select_job(facts.selection);

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "embed/embed_job.h"
#include "mine/mine_job.h"
#include "select/select_job.h"

namespace deft::report {

// What the run's last step does: `deft mine`'s nearest neighbours, or `deft select`'s budgeted
// unique matching.
enum class RunMode { kNearestNeighbors, kUniqueMatching };

struct Side {
  std::filesystem::path table;              // the input table
  std::filesystem::path embeddings;         // its embedding parquet
  std::optional<embed::EmbedReport> embed;  // unset when the step did not run
  // The encoder and the precision each side used are read from `embeddings` itself
  // (encoders_used), not from the spec, which may say `auto`.
};

struct RunFacts {
  RunMode mode = RunMode::kNearestNeighbors;
  std::filesystem::path run_dir;
  std::string started;  // local time, "2026-11-24 23:40:12"
  Side targets;
  bool text_targets = false;  // targets.table holds texts (`target_text`), embedded as texts
  Side pool;
  mine::MineJob mining;                          // kNearestNeighbors
  std::optional<mine::MineReport> mined;         // unset when mining did not finish
  select::SelectJob selection;                   // kUniqueMatching
  std::optional<select::SelectReport> selected;  // unset when selection did not finish
  std::string failure;                           // what stopped the run ("" when nothing did)
  bool encoder_mismatch = false;                 // the last step refused different encoders
  uint64_t mined_rows = 0;  // rows of mined.parquet / final_unique_files.parquet, read back
  mine::Coverage coverage;  // per target label, from the two tables before embedding

  // The last step's history outcome (history=), when it finished with one.
  const history::RoundOutcome* history() const {
    if (mode == RunMode::kNearestNeighbors)
      return mined && mined->history ? &*mined->history : nullptr;
    return selected && selected->history ? &*selected->history : nullptr;
  }

  // Whether the last step (mining or selection) finished.
  bool finished() const {
    return mode == RunMode::kNearestNeighbors ? mined.has_value() : selected.has_value();
  }
};

struct Verdict {
  std::string line;                  // "OK", "CHECK: …", "FAIL: …"
  std::vector<std::string> reasons;  // why, one sentence each
};

}  // namespace deft::report
