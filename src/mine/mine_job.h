#pragma once
// `deft mine` / `deft tmm nearest_neighbors`: each target's nearest pool images, filtered,
// deduplicated, written with their provenance.
//
//   mine::MineJob job{.source = "pool_emb.parquet", .target = "targets_emb.parquet",
//                     .output = "mined.parquet"};
//   mine::MineReport r = mine::run_mine_job(job);   // throws Error
//
// Before any search: the two files' encoder fingerprints must match (allow_encoder_mismatch
// turns the error into a warning), vectors must have one dimension and be finite, and label
// filtering must be possible (label columns of one kind). Then the pool is streamed in blocks
// of at most memory_budget_mb / 2 of vectors through index::ExactSearch.
//
// Label filtering: kAfter is the reference's (the top-n first, then pairs whose labels differ
// are dropped and counted); kWithin finds the top-n among the pool rows of the target's label.
// Outputs: the mined parquet (filepath first; provenance columns unless provenance=false),
// <output>.pairs.parquet (every pair, kept or why dropped) and mining_summary.txt beside the
// output.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "history/mining_history.h"
#include "history/round_outcome.h"
#include "history/round_start.h"
#include "index/metric.h"
#include "mine/label_coverage.h"
#include "mine/labels.h"

namespace deft::mine {

enum class LabelMode { kAfter, kWithin };

// What became of filter_by_label: not asked for, applied, or asked for and impossible (a table
// without labels: mined unfiltered, with a warning).
enum class LabelFilterOutcome { kOff, kApplied, kNotApplied };

// What the encoder fingerprint check found.
enum class EncoderCheck {
  kSame,             // one encoder (precision or decoding may differ: said in the words)
  kNotChecked,       // a table records no fingerprint
  kMismatchAllowed,  // different encoders, mined under allow_encoder_mismatch=true
};

struct MineJob {
  std::filesystem::path source;  // the pool's embedding parquet
  std::filesystem::path target;  // the targets' embedding parquet
  std::filesystem::path output;  // the mined parquet
  size_t topn = 5;
  index::Metric metric = index::Metric::kCosine;
  bool filter_by_label = false;
  LabelMode label_mode = LabelMode::kAfter;
  LabelCompare label_compare = LabelCompare::kReference;
  double distance_threshold = -1.0;  // negative: off
  std::string source_column = "embedding";
  std::string target_column = "embedding";
  bool provenance = true;
  bool allow_encoder_mismatch = false;
  bool strict = false;  // a requested label filter that cannot apply is an error
  double memory_budget_mb = 1024;
  // "exact" (or "Flat"), or a FAISS factory string for an approximate index ("HNSW32",
  // "IVF4096,Flat"), which holds the whole pool in memory; index_params are FAISS's
  // ParameterSpace settings ("nprobe=16", "efSearch=128").
  std::string index = "exact";
  std::string index_params;
  bool absolute_paths = false;  // the mined filepath values joined to the pool's path base
  int threads = 0;              // 0: every core
  std::string spec;             // the resolved mining spec (YAML), recorded in the mined parquet
  // history=: earlier rounds' items left out of the search, this round recorded.
  history::HistorySettings history;
  // `deft run`: the round is recorded only after the run's reports (report.pending_history).
  bool defer_history = false;
};

struct MineReport {
  uint64_t queries = 0;
  uint64_t pool_size = 0;
  uint64_t neighbours = 0;  // pairs the search found
  uint64_t dropped_by_label = 0;
  uint64_t null_label_pairs = 0;  // pairs the label filter judged with a NULL label on a side
  uint64_t dropped_by_threshold = 0;
  uint64_t duplicates_removed = 0;
  uint64_t same_file_rows = 0;  // pool rows mined as one with another row naming the same file
  uint64_t unique_mined = 0;
  LabelFilterOutcome label_filter_outcome = LabelFilterOutcome::kOff;
  std::string label_filter;  // the same, in words (the summary's label_filter line)
  EncoderCheck encoder_check_outcome = EncoderCheck::kSame;
  std::string encoder_check;          // the same, in words (the summary's encoder_check line)
  std::string index;                  // "exact", or the approximate index and its measured recall
  std::vector<std::string> warnings;  // about the settings, coverage; also in the summary
  Coverage coverage;                  // per target label: targets, pool rows, scarcity
  std::optional<history::RoundOutcome> history;  // with history=
  // With defer_history: the round, written but not yet recorded (PendingRound::commit).
  std::shared_ptr<history::PendingRound> pending_history;
  uint64_t dropped_by_cap = 0;  // mined images over max_pool_fraction
  double seconds = 0;
  std::filesystem::path summary_path;
  std::filesystem::path pairs_path;
};

MineReport run_mine_job(const MineJob& job);

// <output>.pairs.parquet and the mining_summary.txt beside <output>.
std::filesystem::path pairs_path_for(const std::filesystem::path& output);
std::filesystem::path summary_path_for(const std::filesystem::path& output);

}  // namespace deft::mine
