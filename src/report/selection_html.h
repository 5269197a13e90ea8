#pragma once
// report.html of a `deft run` in mode unique_neighbor_matching: the verdict, the counts, the
// Recommended Actions, the selected files per group (inline SVG) and the group table, the rows
// that failed to embed, then every target (up to kMaxListedPairs claims' worth) beside the
// files it claimed and kept in the selection: rank, distance, pass and subset, or why it
// claimed none. Pages, filter, thumbnails and links as the nearest-neighbour page
// (html_parts.h). A run that stopped before selection finished gets the verdict, what
// stopped it, the actions and the failed images.
//
//   report::write_selection_html(facts, verdict, &outputs);   // run_dir/report.html, thumbs/

#include "report/run_facts.h"

namespace deft {
class OutputSet;
}

namespace deft::report {

void write_selection_html(const RunFacts& facts, const Verdict& verdict,
                          OutputSet* outputs = nullptr);

}  // namespace deft::report
