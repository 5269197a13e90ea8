#pragma once
// Mining_Report.md of a `deft run` in mode unique_neighbor_matching (`deft select`'s budgeted
// one-to-one matching): Verdict, Inputs, Encoder Consistency, Selection Run (the subsets and
// their passes), Allocation, Coverage (targets satisfied, and why the others were not),
// Per-Class Results (with detection files), Output Sanity, Recommended Actions. Every figure
// comes from the selection's report and the run's files.
//
//   report::Verdict v = report::judge_selection(facts);
//   write_file_atomically(dir / "Mining_Report.md", report::render_selection(facts));
//
// The verdict's rules (README, "Mining_Report.md"), first match wins:
//   FAIL: encoder mismatch / FAIL: <what failed>   as in nearest-neighbour mode
//   CHECK: nothing selected        the run worked but selected no file
//   CHECK: budget not met          fewer files than desired_unique_count were selected
//   CHECK: images failed to embed  some rows of either table are in a failure sidecar
//   OK

#include <string>
#include <vector>

#include "report/run_facts.h"

namespace deft::report {

Verdict judge_selection(const RunFacts& facts);

std::string render_selection(const RunFacts& facts);

// The Recommended Actions, one sentence each, with `code` in backticks.
std::vector<std::string> selection_actions(const RunFacts& facts);

// "the pool ran out of unclaimed files": why a subset's matching stopped, in words.
std::string stop_words(select::StopReason reason);

// A class's result: its own subset plus its `<class>_fallback` refill.
struct ClassOutcome {
  std::string name;
  size_t targets = 0;
  size_t desired = 0;
  size_t retrieved = 0;  // own + fallback
  size_t from_fallback = 0;
  size_t unsatisfied = 0;
};
// One row per allocation group (class_stratified), or one `global` row.
std::vector<ClassOutcome> class_outcomes(const select::SelectReport& report);

}  // namespace deft::report
