#pragma once
// The mining history and the coverage in the run's two reports, for both modes: a paragraph
// and a table of rounds for Mining_Report.md, a section with a yield chart (inline SVG) for
// report.html, and a coverage paragraph for the per-label part. Empty when the run had no
// history (or its tables no labels).
//
//   md += history_markdown(facts);   html += history_html(facts);

#include <string>

#include "report/run_facts.h"

namespace deft::report {

std::string history_markdown(const RunFacts& facts);
std::string history_html(const RunFacts& facts);
// Labels without pool rows and scarce labels, found before embedding ("" when none or no
// labels).
std::string coverage_markdown(const RunFacts& facts);
std::string coverage_html(const RunFacts& facts);

}  // namespace deft::report
