#include "report/selection_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "index/metric.h"
#include "report/history_parts.h"
#include "report/run_sections.h"
#include "table/duckdb_handles.h"
#include "table/table_reader.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

size_t unsatisfied_targets(const select::SelectReport& r) {
  size_t n = 0;
  for (const select::SubsetSummary& s : r.subsets)
    n += s.result.unsatisfied.size();
  return n;
}

// Rows of a parquet the run wrote, or nullopt when it is not there.
std::optional<uint64_t> rows_of_file(const fs::path& parquet) {
  std::error_code ec;
  if (!fs::is_regular_file(parquet, ec)) return std::nullopt;
  table::Database db;
  table::TableReader reader(db, parquet);
  return reader.count_rows();
}

std::string selection_run_section(const RunFacts& f) {
  const select::SelectJob& job = f.selection;
  const select::SelectReport& r = *f.selected;
  std::string md = "## Selection Run\n\n";
  md += fmt::format(
      "A budget of {} unique pool files (`desired_unique_count`) was spread over the {} "
      "targets, {} allocation, by the {} distance between L2-normalised embeddings, each pass "
      "searching each target's `candidate_expansion_factor` ({}) × pass × topn nearest pool "
      "rows. The pool had {} rows naming {} distinct files; {} rows were excluded by "
      "`exclude_path`.\n\n",
      job.desired, r.target_queries, select::allocation_name(job.allocation),
      index::metric_name(job.metric), job.expansion, r.pool_rows, r.pool_files, r.excluded_rows);
  md += fmt::format("**{} of {} files selected ({}).**\n\n", r.retrieved, job.desired,
                    pct(r.retrieved, job.desired));
  md +=
      "| subset | targets | pool rows | budget | topn | passes | selected | unsatisfied | "
      "stopped because |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const select::SubsetSummary& s : r.subsets) {
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", s.name, s.targets,
                      s.pool_rows, s.desired, s.result.topn, s.result.passes.size(),
                      s.result.retrieved.size(), s.result.unsatisfied.size(),
                      stop_words(s.result.stop));
  }
  md +=
      "\n| subset | pass | search depth k | targets searched | satisfied | claims merged |\n"
      "|---|---|---|---|---|---|\n";
  for (const select::SubsetSummary& s : r.subsets) {
    for (const select::Pass& p : s.result.passes) {
      md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", s.name, p.number, p.k,
                        p.targets_searched, p.satisfied.size(), p.merged);
    }
  }
  md += fmt::format(
      "\nA target claims its topn nearest files not yet claimed or releases them all for the "
      "next pass; each pass's claims enter the result nearest first (ties by filepath) until "
      "the budget is met, so the result never exceeds it. A pass that satisfied no target is "
      "not listed. Selection took {:.1f} s.\n\n",
      r.seconds);
  for (const std::string& w : r.warnings)
    md += "Warning: " + w + ".\n\n";
  md += history_markdown(f);
  return md;
}

std::string allocation_section(const RunFacts& f) {
  const select::SelectReport& r = *f.selected;
  std::string md = "## Allocation\n\n";
  if (f.selection.allocation == select::Allocation::kGlobal) {
    const size_t topn = r.subsets.empty() ? 0 : r.subsets[0].result.topn;
    md += fmt::format(
        "Global: one budget of {} over all {} targets, so each target claims topn = ceil({} / "
        "{}) = {} {}.\n\n",
        f.selection.desired, r.target_queries, f.selection.desired,
        std::max<size_t>(1, r.target_queries), topn, topn == 1 ? "file" : "files");
    return md;
  }
  md += fmt::format(
      "Class-stratified over the rare classes {}: each rare class, then `non_rare` (the "
      "targets with no rare class), gets the budget in proportion to its targets, by the "
      "largest-remainder method, so the shares sum to the budget. A target with two rare "
      "classes counts in both ({} rare and {} non-rare target queries).\n\n",
      fmt::format("`{}`", fmt::join(f.selection.rare_classes, "`, `")), r.rare_target_queries,
      r.non_rare_target_queries);
  md += "| group | targets | share of targets | budget |\n|---|---|---|---|\n";
  for (const select::GroupAllocation& g : r.allocation) {
    md +=
        fmt::format("| {} | {} | {:.2f}% | {} |\n", g.name, g.targets, g.ratio * 100.0, g.desired);
  }
  return md + "\n";
}

std::string coverage_section(const RunFacts& f) {
  const select::SelectReport& r = *f.selected;
  const size_t unsatisfied = unsatisfied_targets(r);
  std::string md = "## Coverage\n\n" + coverage_markdown(f);
  md += fmt::format(
      "| group | targets | budget | selected | of which refilled from non_rare | "
      "unsatisfied targets |\n|---|---|---|---|---|---|\n");
  for (const ClassOutcome& c : class_outcomes(r)) {
    md += fmt::format("| {} | {} | {} | {} ({}) | {} | {} |\n", c.name, c.targets, c.desired,
                      c.retrieved, pct(c.retrieved, c.desired), c.from_fallback, c.unsatisfied);
  }
  const size_t queries = f.selection.allocation == select::Allocation::kGlobal
                             ? r.target_queries
                             : r.rare_target_queries + r.non_rare_target_queries;
  md += fmt::format(
      "\n{} target queries; {} searches ended with a target unsatisfied (summary.json's "
      "`unsatisfied_targets`, by reason){}. Which target claimed each selected file, in which "
      "pass, at which rank and distance, is in `selection_provenance.parquet`; report.html "
      "shows every target beside the files it claimed.\n\n",
      queries, unsatisfied,
      unsatisfied == 0 ? "" : "; why each subset stopped is in the Selection Run table");
  return md;
}

std::string per_class_section(const RunFacts& f) {
  const select::SelectReport& r = *f.selected;
  std::string md = "## Per-Class Results\n\n";
  if (!r.target_dataset && !r.resultant_dataset) {
    return md + "Skipped: no detection file was given, so the images have no classes to count.\n\n";
  }
  const auto total = [](const std::optional<select::DatasetStats>& d, auto field) {
    return d ? std::to_string((*d).*field) : std::string("–");
  };
  md += "| | targets | selected |\n|---|---|---|\n";
  md += fmt::format("| images | {} | {} |\n",
                    total(r.target_dataset, &select::DatasetStats::total_images),
                    total(r.resultant_dataset, &select::DatasetStats::total_images));
  md += fmt::format("| with a rare class | {} | {} |\n",
                    total(r.target_dataset, &select::DatasetStats::rare_images),
                    total(r.resultant_dataset, &select::DatasetStats::rare_images));
  md += fmt::format("| rare instances | {} | {} |\n\n",
                    total(r.target_dataset, &select::DatasetStats::rare_instances),
                    total(r.resultant_dataset, &select::DatasetStats::rare_instances));
  std::map<std::string, std::pair<select::ClassCounts, select::ClassCounts>> classes;
  if (r.target_dataset) {
    for (const auto& [name, c] : r.target_dataset->per_class)
      classes[name].first = c;
  }
  if (r.resultant_dataset) {
    for (const auto& [name, c] : r.resultant_dataset->per_class)
      classes[name].second = c;
  }
  md +=
      "| class | target images | target boxes | selected images | selected boxes |\n"
      "|---|---|---|---|---|\n";
  constexpr size_t kMaxRows = 50;  // summary.json holds them all
  size_t shown = 0;
  for (const auto& [name, c] : classes) {
    if (++shown > kMaxRows) break;
    md += fmt::format("| {} | {} | {} | {} | {} |\n", name, c.first.images, c.first.instances,
                      c.second.images, c.second.instances);
  }
  if (classes.size() > kMaxRows) {
    md += fmt::format("\n{} more classes are in summary.json.\n", classes.size() - kMaxRows);
  }
  return md +
         "\nCounted from the detection files: the selected images are looked up in the "
         "pool's, by path, then basename, then stem.\n\n";
}

std::string output_sanity_section(const RunFacts& f) {
  std::string md = "## Output Sanity\n\n";
  if (!f.selected) return md + "- No selection was written.\n\n";
  const select::SelectReport& r = *f.selected;
  md += fmt::format("- `final_unique_files.parquet` has {} rows; the summary says {} files{}.\n",
                    f.mined_rows, r.retrieved,
                    f.mined_rows == r.retrieved ? " (they agree)" : " (THEY DISAGREE)");
  md += fmt::format(
      "- {} selected against a budget of {}: {}.\n", r.retrieved, f.selection.desired,
      r.retrieved <= f.selection.desired ? "within it, as it must be" : "OVER THE BUDGET");
  const std::optional<uint64_t> provenance =
      rows_of_file(f.run_dir / "selection_provenance.parquet");
  md += fmt::format(
      "- `selection_provenance.parquet` has {} rows{}.\n",
      provenance ? std::to_string(*provenance) : "no",
      provenance && *provenance == r.retrieved ? ", one per selected file" : " (THEY DISAGREE)");
  md +=
      "- The per-pass parquets hold every target satisfied in each pass, picks cut by the "
      "budget included; `summary.json` holds the counts in the reference's form, then "
      "deft's.\n\n";
  return md;
}

}  // namespace

std::string stop_words(select::StopReason reason) {
  switch (reason) {
    case select::StopReason::kBudgetMet:
      return "the budget was met";
    case select::StopReason::kAllSatisfied:
      return "every target claimed its topn";
    case select::StopReason::kNoTargets:
      return "it had no target or no budget";
    case select::StopReason::kPoolExhausted:
      return "no unclaimed pool file was left";
    case select::StopReason::kNoTargetSatisfied:
      return "a pass satisfied no target";
    case select::StopReason::kNothingNew:
      return "a pass added no new file";
    case select::StopReason::kPassLimit:
      return "8 passes ran";
  }
  return select::stop_reason_name(reason);
}

std::vector<ClassOutcome> class_outcomes(const select::SelectReport& r) {
  std::vector<ClassOutcome> out;
  std::map<std::string, size_t> at;
  const auto group = [&](const std::string& name) -> ClassOutcome& {
    const auto [it, added] = at.emplace(name, out.size());
    if (added) out.push_back({.name = name});
    return out[it->second];
  };
  for (const select::GroupAllocation& g : r.allocation) {
    ClassOutcome& c = group(g.name);
    c.targets = g.targets;
    c.desired = g.desired;
  }
  constexpr std::string_view kFallback = "_fallback";
  for (const select::SubsetSummary& s : r.subsets) {
    const bool fallback = s.name.ends_with(kFallback);
    ClassOutcome& c = group(fallback ? s.name.substr(0, s.name.size() - kFallback.size()) : s.name);
    c.retrieved += s.result.retrieved.size();
    if (fallback) {
      c.from_fallback += s.result.retrieved.size();
    } else {
      c.targets = std::max(c.targets, s.targets);
      c.desired = std::max(c.desired, s.desired);
      c.unsatisfied += s.result.unsatisfied.size();
    }
  }
  return out;
}

Verdict judge_selection(const RunFacts& f) {
  if (std::optional<Verdict> failed = failed_run(f)) return *failed;
  Verdict v;
  const select::SelectReport& r = *f.selected;
  if (r.retrieved == 0) {
    v.line = "CHECK: nothing selected";
    v.reasons.push_back("The run finished but selected no file (see Selection Run).");
  }
  if (r.retrieved < f.selection.desired) {
    if (v.line.empty()) v.line = "CHECK: budget not met";
    std::vector<std::string> why;
    for (const select::SubsetSummary& s : r.subsets) {
      if (s.result.retrieved.size() < s.desired)
        why.push_back(fmt::format("`{}` stopped because {}", s.name, stop_words(s.result.stop)));
    }
    v.reasons.push_back(
        fmt::format("{} of the {} files asked for were selected ({}){}.", r.retrieved,
                    f.selection.desired, pct(r.retrieved, f.selection.desired),
                    why.empty() ? "" : ": " + fmt::format("{}", fmt::join(why, "; "))));
  }
  if (images_failed(f)) {
    if (v.line.empty()) v.line = "CHECK: images failed to embed";
    v.reasons.push_back("Some images could not be embedded and were left out (see Inputs).");
  }
  if (v.line.empty()) {
    v.line = "OK";
    v.reasons.push_back(fmt::format(
        "{} and the budget of {} unique files was met.",
        f.text_targets
            ? "The texts and the pool were embedded by one checkpoint's text and image towers"
            : "Both sides were embedded by the same encoder",
        f.selection.desired));
  }
  return v;
}

std::vector<std::string> selection_actions(const RunFacts& f) {
  std::vector<std::string> actions = failed_run_actions(f);
  if (f.selected) {
    const select::SelectReport& r = *f.selected;
    for (const select::SubsetSummary& s : r.subsets) {
      if (s.result.retrieved.size() >= s.desired || s.desired == 0) continue;
      switch (s.result.stop) {
        case select::StopReason::kPoolExhausted:
        case select::StopReason::kNothingNew:
          actions.push_back(fmt::format(
              "`{}` selected {} of {}: its pool ran out of unclaimed files. Enlarge the pool{}, "
              "or lower `mining.desired_unique_count`.",
              s.name, s.result.retrieved.size(), s.desired,
              r.excluded_rows > 0 ? " or shorten the exclude list" : ""));
          break;
        case select::StopReason::kNoTargetSatisfied:
        case select::StopReason::kPassLimit:
          if (s.pool_rows < s.result.retrieved.size() + s.result.topn) {
            actions.push_back(fmt::format(
                "`{}` selected {} of {}: fewer unclaimed pool files were left than a target's "
                "topn = {}, so no target could be satisfied. Enlarge the pool, or lower "
                "`mining.desired_unique_count` (topn is the budget over the targets, rounded "
                "up).",
                s.name, s.result.retrieved.size(), s.desired, s.result.topn));
            break;
          }
          actions.push_back(fmt::format(
              "`{}` selected {} of {}: its targets could not each find topn = {} unclaimed files "
              "among their nearest candidates. Raise `mining.candidate_expansion_factor` "
              "(now {}) to search deeper, or lower the budget.",
              s.name, s.result.retrieved.size(), s.desired, s.result.topn, f.selection.expansion));
          break;
        default:
          break;
      }
    }
    for (const ClassOutcome& c : class_outcomes(r)) {
      if (c.from_fallback > 0) {
        actions.push_back(fmt::format(
            "Class `{}` filled {} of its {} files from non-rare images (`{}_fallback`): the "
            "pool holds too few images of that class near its targets; add some.",
            c.name, c.from_fallback, c.desired, c.name));
      }
    }
  }
  if (images_failed(f)) actions.push_back(images_failed_action());
  if (std::string mixed = mixed_precision_action(f); !mixed.empty()) actions.push_back(mixed);
  if (actions.empty()) {
    actions.push_back(
        "Review a sample of the selection in report.html (each target beside the files it "
        "claimed) before training; `selection_provenance.parquet` has the same in a table.");
    actions.push_back(
        "Keep the run folder: its specs reproduce the run with `deft embed` and `deft select`, "
        "and its pool embeddings make the next run faster.");
  }
  if (const history::RoundOutcome* h = f.history())
    actions.insert(actions.end(), h->actions.begin(), h->actions.end());
  return actions;
}

std::string render_selection(const RunFacts& f) {
  const Verdict v = judge_selection(f);
  std::string md = "# Mining Report\n\n";
  md += fmt::format(
      "Run folder `{}`, started {}. Mode: unique_neighbor_matching (`deft select`: a budget of "
      "unique pool files spread over the targets, one-to-one).\n\n",
      f.run_dir.string(), f.started);
  md += verdict_section(
      v,
      "The verdict follows fixed rules, listed in the README under \"Mining_Report.md\": an "
      "encoder mismatch or a failed step is FAIL; no file selected, a budget not met, or images "
      "that failed to embed is CHECK; anything else is OK.");
  md += inputs_section(f) + encoder_section(f);
  if (!f.selected) {
    md +=
        "## Selection Run\n\nSelection did not finish in this run, so there is nothing to "
        "report.\n\n";
  } else {
    md += selection_run_section(f) + allocation_section(f) + coverage_section(f) +
          per_class_section(f);
  }
  md += output_sanity_section(f);
  md += "## Recommended Actions\n\n";
  for (const std::string& a : selection_actions(f))
    md += "- " + a + "\n";
  return md;
}

}  // namespace deft::report
