#pragma once
// The two reports of a `deft run`, Mining_Report.md and report.html, written together (a
// continued run's earlier reports are replaced as one), in the form of the run's mode.
//
//   const report::Verdict verdict = report::write_run_reports(facts);

#include "report/run_facts.h"

namespace deft::report {

Verdict write_run_reports(const RunFacts& facts);

}  // namespace deft::report
