#pragma once
// report.html: the visual side of Mining_Report.md. For each target (the first kMaxTargets),
// its thumbnail and its neighbours' thumbnails with rank, distance, label badges and, for a
// dropped pair, why; then a distance histogram and per-label counts as inline SVG. Static HTML
// and CSS only (no script, no network): it opens from disk. Thumbnails (at most 128 px) go to
// thumbs/ beside it.
//
//   report::write_html_report(facts, verdict, labels);   // run_dir/report.html, run_dir/thumbs/

#include <cstddef>
#include <optional>
#include <vector>

#include "report/mining_report.h"

namespace deft::report {

inline constexpr size_t kMaxHtmlTargets = 100;

void write_html_report(const RunFacts& facts, const Verdict& verdict,
                       const std::optional<std::vector<LabelRow>>& labels);

}  // namespace deft::report
