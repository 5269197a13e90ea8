#include "report/selection_html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "index/metric.h"
#include "report/history_parts.h"
#include "report/html_parts.h"
#include "report/run_sections.h"
#include "report/selection_report.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

std::string summary(const RunFacts& f) {
  const select::SelectReport& r = *f.selected;
  const EncodersUsed used = encoders_used(f);
  return fmt::format(
      "<p>{} targets, pool of {} rows ({} files, {} excluded), a budget of {} unique files, "
      "{} allocation, {} distance: <b>{} unique files selected</b> ({}). Details: "
      "<a href=\"Mining_Report.md\">Mining_Report.md</a>.</p>\n<p class=\"encoder{}\">{}</p>\n",
      r.target_queries, r.pool_rows, r.pool_files, r.excluded_rows, f.selection.desired,
      select::allocation_name(f.selection.allocation), index::metric_name(f.selection.metric),
      r.retrieved, pct(r.retrieved, f.selection.desired), used.mixed_precision() ? " mixed" : "",
      escape(encoder_sentence(used)));
}

std::string groups(const std::vector<ClassOutcome>& outcomes) {
  std::string html;
  if (outcomes.size() > 1) {
    BarChart chart{
        .caption = "Selected files per group", .x_axis = "group", .y_axis = "selected files"};
    for (const ClassOutcome& c : outcomes)
      chart.bars.emplace_back(c.name, c.retrieved);
    html += svg_chart(chart, "#d08a4a");
  }
  html +=
      "<h2>Per group</h2>\n<table class=\"labels\"><thead><tr><th>group</th><th>targets</th>"
      "<th>budget</th><th>selected</th><th>from non_rare</th><th>unsatisfied targets</th>"
      "</tr></thead><tbody>\n";
  for (const ClassOutcome& c : outcomes) {
    html += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        c.retrieved < c.desired ? " class=\"zero\"" : "", escape(c.name), c.targets, c.desired,
        c.retrieved, c.from_fallback, c.unsatisfied);
  }
  return html + "</tbody></table>\n";
}

// Target index → "subset: why" for each subset in which it ended unsatisfied.
std::map<size_t, std::vector<std::string>> unsatisfied_by_target(const select::SelectReport& r) {
  std::map<size_t, std::vector<std::string>> out;
  for (const select::SubsetSummary& s : r.subsets) {
    for (size_t t : s.result.unsatisfied)
      out[t].push_back(fmt::format("{}: {}", s.name, stop_words(s.result.stop)));
  }
  return out;
}

// One claim of a satisfied target: kept in the selection, or cut by the budget.
struct Claim {
  const std::string* subset;
  int pass;
  size_t rank;
  uint64_t pool_row;
  double distance;
  bool kept;
};

// The claims of the targets below `listed`, by target, in subset, pass and rank order.
std::map<size_t, std::vector<Claim>> claims_by_target(const select::SelectReport& r,
                                                      size_t listed) {
  std::map<size_t, std::vector<Claim>> out;
  for (const select::SubsetSummary& s : r.subsets) {
    const std::unordered_set<uint32_t> kept(s.result.retrieved.begin(), s.result.retrieved.end());
    for (const select::Pass& p : s.result.passes) {
      for (const select::SatisfiedTarget& t : p.satisfied) {
        if (t.target >= listed) continue;
        for (size_t k = 0; k < t.picks.size(); ++k) {
          const select::Pick& pick = t.picks[k];
          out[t.target].push_back(
              {&s.name, p.number, k + 1, pick.pool_row, pick.distance, kept.contains(pick.file)});
        }
      }
    }
  }
  return out;
}

// pool row → filepath, for the rows the claims name (one query).
std::map<uint64_t, std::string> pool_paths(table::Database& db, const RunFacts& f,
                                           const std::map<size_t, std::vector<Claim>>& claims) {
  std::set<uint64_t> rows;
  for (const auto& [target, list] : claims) {
    for (const Claim& c : list)
      rows.insert(c.pool_row);
  }
  std::map<uint64_t, std::string> paths;
  if (rows.empty()) return paths;
  for (const auto& row :
       rows_of(db, fmt::format("SELECT file_row_number::VARCHAR, \"{}\" FROM read_parquet({}, "
                               "file_row_number = true) WHERE file_row_number IN ({})",
                               f.selection.source_filepath_column, quoted(f.pool.embeddings),
                               fmt::join(rows, ", ")))) {
    paths[std::stoull(row[0])] = row[1];
  }
  return paths;
}

std::string targets_section(table::Database& db, const RunFacts& f, const TargetView& v) {
  const select::SelectReport& r = *f.selected;
  size_t topn = 1;
  for (const select::SubsetSummary& s : r.subsets)
    topn = std::max(topn, s.result.topn);
  const size_t listed =
      std::min<size_t>(r.target_queries, std::max(kMaxThumbnailTargets, kMaxListedPairs / topn));
  const bool labels = has_label(db, f.targets.embeddings);
  const Rows targets = rows_of(
      db, fmt::format("SELECT file_row_number::VARCHAR, \"{}\", {} FROM read_parquet({}, "
                      "file_row_number = true) WHERE file_row_number < {} ORDER BY 1::BIGINT",
                      f.selection.target_filepath_column, labels ? "label::VARCHAR" : "NULL",
                      quoted(f.targets.embeddings), listed));
  const auto claims = claims_by_target(r, listed);
  const auto paths = pool_paths(db, f, claims);
  const auto unsatisfied = unsatisfied_by_target(r);

  std::string html = fmt::format(
      "<h2>Targets and the files they claimed</h2>\n<p>{} {} targets, {} per page; {}. A claim "
      "cut by the budget (its pass's claims entered the selection nearest first until the "
      "budget was met) is shown faded. Every image links to its file.{}</p>\n",
      targets.size() == r.target_queries ? "All" : "The first", targets.size(), kHtmlPageSize,
      thumbnails_words(targets.size()),
      targets.size() < r.target_queries
          ? fmt::format(" The other {} targets' claims are in selection_provenance.parquet.",
                        r.target_queries - targets.size())
          : "");
  html += paging_controls(targets.size(), r.target_queries);
  for (size_t i = 0; i < targets.size(); ++i) {
    html += page_break(i);
    const auto& t = targets[i];
    const size_t target = std::stoull(t[0]);
    const bool thumbnail = i < kMaxThumbnailTargets;
    const auto found = claims.find(target);
    const std::vector<Claim> none;
    const std::vector<Claim>& mine = found == claims.end() ? none : found->second;
    const size_t kept =
        std::count_if(mine.begin(), mine.end(), [](const Claim& c) { return c.kept; });
    std::string status = fmt::format("{} selected", kept);
    if (kept < mine.size()) status += fmt::format(", {} cut by the budget", mine.size() - kept);
    if (const auto it = unsatisfied.find(target); it != unsatisfied.end()) {
      status += " · unsatisfied (" + escape(fmt::format("{}", fmt::join(it->second, "; "))) + ")";
    }
    html += "<div class=\"target\">";
    if (f.text_targets) {
      html += text_card(t[1], badge(t[2]) + "target " + t[0] + " (text)<br>" + status);
    } else {
      html += card(v, resolve(v.target_base, t[1]), "t_" + t[0] + ".jpg",
                   badge(t[2]) + "target " + t[0] + "<br>" + escape(t[1]) + "<br>" + status,
                   "query", thumbnail);
    }
    for (const Claim& c : mine) {
      const auto named = paths.find(c.pool_row);
      const std::string path =
          named != paths.end() ? named->second : fmt::format("(pool row {})", c.pool_row);
      // Rounded, then + 0.0: identical images print 0.0000 rather than -0.0000.
      html += card(v, resolve(v.pool_base, path), fmt::format("p_{}.jpg", c.pool_row),
                   fmt::format("#{} · {:.4f} · pass {} · {}{}", c.rank,
                               std::round(c.distance * 1e4) / 1e4 + 0.0, c.pass, escape(*c.subset),
                               c.kept ? "" : " · cut by the budget") +
                       "<br>" + escape(path),
                   c.kept ? "" : "dropped", thumbnail);
    }
    html += "</div>\n";
  }
  if (!targets.empty()) html += "</section>\n";
  return html;
}

}  // namespace

void write_selection_html(const RunFacts& f, const Verdict& verdict, OutputSet* outputs) {
  table::Database db;
  std::string html = html_head("Selection report", verdict);
  if (!f.selected) {
    html += fmt::format(
        "<p>The run stopped before selection finished, so there are no claims to show. "
        "Details: <a href=\"Mining_Report.md\">Mining_Report.md</a>.</p>\n"
        "<p class=\"failure\">{}</p>\n",
        escape(f.failure));
    html += actions_list(selection_actions(f)) + failures_table(db, f) + "</body></html>\n";
    write_file_atomically(f.run_dir / "report.html", html, outputs);
    return;
  }
  const TargetView view{.thumbs = f.run_dir / "thumbs",
                        .target_base = path_base(db, f.targets.embeddings),
                        .pool_base = path_base(db, f.pool.embeddings)};
  fs::create_directories(view.thumbs);
  html += summary(f) + actions_list(selection_actions(f)) + history_html(f) + coverage_html(f);
  html += groups(class_outcomes(*f.selected));
  html += failures_table(db, f);
  html += targets_section(db, f, view);
  html += paging_script() + "</body></html>\n";
  write_file_atomically(f.run_dir / "report.html", html, outputs);
}

}  // namespace deft::report
