#include "report/run_reports.h"

#include "common/atomic_file.h"
#include "common/output_set.h"
#include "report/html_report.h"
#include "report/mining_report.h"
#include "report/selection_html.h"
#include "report/selection_report.h"

namespace deft::report {

Verdict write_run_reports(const RunFacts& facts) {
  OutputSet reports;
  const auto markdown = facts.run_dir / "Mining_Report.md";
  Verdict verdict;
  switch (facts.mode) {
    case RunMode::kNearestNeighbors: {
      const auto labels = label_breakdown(facts);
      write_file_atomically(markdown, render(facts, labels), &reports);
      verdict = judge(facts);
      write_html_report(facts, verdict, labels, &reports);
      break;
    }
    case RunMode::kUniqueMatching:
      write_file_atomically(markdown, render_selection(facts), &reports);
      verdict = judge_selection(facts);
      write_selection_html(facts, verdict, &reports);
      break;
  }
  reports.commit();
  return verdict;
}

}  // namespace deft::report
