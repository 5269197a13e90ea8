#pragma once
// report.html: the visual side of Mining_Report.md. The verdict, the encoder and precision
// each side used, the Recommended Actions, a histogram of the kept pairs' distances and the
// mined images per label (inline SVG with labelled axes), the per-label table, the rows that
// failed to embed with their reasons, then every target (up to kMaxListedPairs pairs' worth)
// beside its neighbours: rank, distance, label badge, and for a dropped pair why. Each image
// links to its file. Targets are in pages of kHtmlPageSize; a small inline script shows one
// page at a time and filters by label or path; without it, every page shows, one under the
// other, with links to each. No network: it opens from disk. Thumbnails (at most 128 px)
// go to thumbs/ beside it, for the first kMaxThumbnailTargets targets and their neighbours.
// A run that stopped before mining finished gets the verdict, what stopped it, the actions and
// the failed images. With `outputs`, report.html joins that output set (Mining_Report.md's).
//
//   report::write_html_report(facts, verdict, labels);   // run_dir/report.html, run_dir/thumbs/

#include <cstddef>
#include <optional>
#include <vector>

#include "report/html_parts.h"
#include "report/mining_report.h"

namespace deft {
class OutputSet;
}

namespace deft::report {

void write_html_report(const RunFacts& facts, const Verdict& verdict,
                       const std::optional<std::vector<LabelRow>>& labels,
                       OutputSet* outputs = nullptr);

}  // namespace deft::report
