#pragma once
// Mining_Report.md: the audit record of one `deft run`, in the seven sections of
// specs/workflow.md (Verdict, Inputs, Encoder Consistency, Mining Run, Per-Label Breakdown,
// Output Sanity, Recommended Actions). Every figure comes from the run's reports and files.
//
//   report::RunFacts facts = ...;                      // filled by `deft run` as it goes
//   report::Verdict v = report::judge(facts);
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
#include <optional>
#include <string>
#include <vector>

#include "report/run_facts.h"
#include "report/run_sections.h"

namespace deft::report {

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

// The Recommended Actions, one sentence each, with `code` in backticks.
std::vector<std::string> recommended_actions(const RunFacts& facts,
                                             const std::optional<std::vector<LabelRow>>& labels);

}  // namespace deft::report
