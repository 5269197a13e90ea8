#include "mine/summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace deft::mine {

std::vector<std::string> threshold_warnings(const MineJob& job) {
  std::vector<std::string> warnings;
  const double t = job.distance_threshold;
  if (job.metric == index::Metric::kCosine && t > 2.0) {
    warnings.push_back(fmt::format(
        "distance_threshold {} has no effect with cosine distance, which is at most 2", t));
  }
  if (t < 0.0 && t != -1.0) {
    warnings.push_back(fmt::format(
        "distance_threshold {} is negative: the distance filter is disabled (use -1.0 to say so)",
        t));
  }
  return warnings;
}

std::string summary_text(const MineJob& job, const MineReport& r, bool label_filter_ran) {
  // The reference's lines: two-space indent, the filter lines only when that filter ran.
  std::string text = "Summary:\n";
  const auto reference = [&](const std::string& line) { text += "  " + line + "\n"; };
  reference(fmt::format("Target queries: {}", r.queries));
  reference(fmt::format("Similar items per query: {}", job.topn));
  reference(fmt::format("Total pairs: {}", r.neighbours));
  uint64_t kept = r.neighbours;
  if (label_filter_ran) {
    reference(fmt::format("After label mismatch filtering: kept {}/{} pairs, dropped {} mismatches",
                          kept - r.dropped_by_label, kept, r.dropped_by_label));
    kept -= r.dropped_by_label;
  }
  if (job.distance_threshold >= 0) {
    reference(fmt::format(
        "After distance filtering: kept {}/{} pairs, dropped {} exceeding threshold {:.4f}",
        kept - r.dropped_by_threshold, kept, r.dropped_by_threshold, job.distance_threshold));
    kept -= r.dropped_by_threshold;
  }
  reference(fmt::format("Total candidates: {}", kept));
  reference(fmt::format("Duplicates removed: {}", r.duplicates_removed));
  reference(fmt::format("Unique items saved: {}", r.unique_mined));
  reference(fmt::format("Results saved to: {}", job.output.string()));

  // deft's own lines.
  text += "\n";
  const auto line = [&](const char* key, const std::string& value) {
    text += fmt::format("{}: {}\n", key, value);
  };
  line("queries", std::to_string(r.queries));
  line("pool_size", std::to_string(r.pool_size));
  line("neighbours", std::to_string(r.neighbours));
  line("dropped_by_label", std::to_string(r.dropped_by_label));
  line("null_label_pairs", std::to_string(r.null_label_pairs));
  line("dropped_by_threshold", std::to_string(r.dropped_by_threshold));
  line("duplicates_removed", std::to_string(r.duplicates_removed));
  line("same_file_rows", std::to_string(r.same_file_rows));
  line("unique_mined", std::to_string(r.unique_mined));
  line("metric", index::metric_name(job.metric));
  line("topn", std::to_string(job.topn));
  line("distance_threshold",
       job.distance_threshold < 0 ? "off" : fmt::format("{}", job.distance_threshold));
  line("index", r.index.empty() ? "exact" : r.index);
  line("label_filter", r.label_filter);
  line("encoder_check", r.encoder_check);
  line("warnings", r.warnings.empty() ? "none" : fmt::format("{}", fmt::join(r.warnings, "; ")));
  line("coverage", r.coverage.words());
  if (r.coverage.checked) {
    line("labels_without_pool_rows", r.coverage.absent.empty()
                                         ? "none"
                                         : fmt::format("{}", fmt::join(r.coverage.absent, ", ")));
    line("scarce_labels", r.coverage.scarce.empty()
                              ? "none"
                              : fmt::format("{}", fmt::join(r.coverage.scarce, ", ")));
  }
  if (r.history) {
    line("dropped_by_cap", std::to_string(r.dropped_by_cap));
    for (const auto& [key, value] : history::history_summary_lines(*r.history))
      line(key.c_str(), value);
  }
  line("seconds", fmt::format("{:.2f}", r.seconds));
  return text;
}

}  // namespace deft::mine
