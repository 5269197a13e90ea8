#pragma once
// Mining_Report.md: the audit record of one `deft run`, in the seven sections of
// specs/workflow.md (Verdict, Inputs, Encoder Consistency, Mining Run, Per-Label Breakdown,
// Output Sanity, Recommended Actions). Every figure comes from the run's reports and files.
//
//   report::RunFacts facts = ...;                      // filled by `deft run` as it goes
//   report::Verdict v = report::judge(facts);
//   report::EncodersUsed used = report::encoders_used(facts);   // from the two fingerprints
//   write_file_atomically(dir / "Mining_Report.md", report::render(facts, labels));
//
// The verdict's rules (README, "Mining_Report.md"), first match wins:
//   FAIL: encoder mismatch         mining refused the two embedding files
//   FAIL: <what failed>            another step failed
//   CHECK: label filter did nothing   filter_by_label was asked for and could not apply
//   CHECK: pool smaller than topn × targets   fewer distinct images can exist than were asked
//   CHECK: images failed to embed  some rows of either table are in a failure sidecar
//   CHECK: nothing mined           the run worked but mined no image
//   OK

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "embed/embed_job.h"
#include "mine/mine_job.h"
#include "model/fingerprint.h"

namespace deft::report {

struct Side {
  std::filesystem::path table;              // the input table
  std::filesystem::path embeddings;         // its embedding parquet
  std::optional<embed::EmbedReport> embed;  // unset when the step did not run
  // The encoder and the precision each side used are read from `embeddings` itself
  // (encoders_used), not from the spec, which may say `auto`.
};

struct RunFacts {
  std::filesystem::path run_dir;
  std::string started;  // local time, "2026-11-24 23:40:12"
  Side targets;
  Side pool;
  mine::MineJob mining;
  std::optional<mine::MineReport> mined;  // unset when mining did not finish
  std::string failure;                    // what stopped the run ("" when nothing did)
  bool encoder_mismatch = false;          // mining refused different encoders
  uint64_t mined_rows = 0;                // rows of mined.parquet, read back
};

struct Verdict {
  std::string line;                  // "OK", "CHECK: …", "FAIL: …"
  std::vector<std::string> reasons;  // why, one sentence each
};

Verdict judge(const RunFacts& facts);

// One row of the per-label table, computed by SQL over the run's parquets.
struct LabelRow {
  std::string label;
  uint64_t targets = 0, pool = 0, pairs_kept = 0, pairs_dropped = 0, mined = 0;
};

// Per-label counts over the run's files; nullopt when the targets have no label column
// (the report then says so in one line).
std::optional<std::vector<LabelRow>> label_breakdown(const RunFacts& facts);

std::string render(const RunFacts& facts, const std::optional<std::vector<LabelRow>>& labels);

// The encoders that made the two embedding parquets, from their fingerprints: what the reports
// show rather than the spec, whose `precision=auto` is resolved per machine, and whose pool
// may have been taken from an earlier file. nullopt for a side whose file has none.
struct EncodersUsed {
  std::optional<model::EncoderFingerprint> targets;
  std::optional<model::EncoderFingerprint> pool;

  // Same encoder, computed in different dtypes (mining accepts it; the reports name it).
  bool mixed_precision() const;
};

EncodersUsed encoders_used(const RunFacts& facts);

// "thumbnail (768-dim, 16×16 input)": family and model id (once when they are the same).
std::string encoder_words(const model::EncoderFingerprint& f);

// One sentence naming each side's encoder and the precision it was computed in.
std::string encoder_sentence(const EncodersUsed& used);

// The Recommended Actions, one sentence each, with `code` in backticks.
std::vector<std::string> recommended_actions(const RunFacts& facts,
                                             const std::optional<std::vector<LabelRow>>& labels);

}  // namespace deft::report
