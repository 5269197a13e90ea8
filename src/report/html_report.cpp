#include "report/html_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "index/metric.h"
#include "report/history_parts.h"
#include "report/html_parts.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxHtmlLabels = 1000;

// Every kept pair's distance, in 20 bins between the smallest and the largest (by SQL: the
// pairs of a large run are not all read).
std::string distance_histogram(table::Database& db, const fs::path& pairs) {
  constexpr int kBins = 20;
  const Rows range = rows_of(db, fmt::format("SELECT printf('%.17g', min(distance)), "
                                             "printf('%.17g', max(distance)), count(*)::VARCHAR "
                                             "FROM read_parquet({}) WHERE kept",
                                             quoted(pairs)));
  if (range.empty() || range[0][2] == "0") return "";
  const double lo = std::stod(range[0][0]);
  const double hi = std::stod(range[0][1]);
  const double width = std::max(hi - lo, 1e-12) / kBins;
  BarChart chart{.caption = fmt::format("Distances of the {} kept pairs", range[0][2]),
                 .x_axis = "distance",
                 .y_axis = "pairs",
                 .bars = {},
                 .x_range = std::pair{lo, hi}};
  for (int b = 0; b < kBins; ++b)
    chart.bars.emplace_back(fmt::format("{:.3f}–{:.3f}", lo + b * width, lo + (b + 1) * width), 0);
  for (const auto& row : rows_of(
           db,
           fmt::format("SELECT least(floor((distance - {:.17g}) / {:.17g}), {})::BIGINT::VARCHAR, "
                       "count(*)::VARCHAR FROM read_parquet({}) WHERE kept GROUP BY 1",
                       lo, width, kBins - 1, quoted(pairs)))) {
    chart.bars[std::stoul(row[0])].second = std::stoull(row[1]);
  }
  return svg_chart(chart, "#4a7bd0");
}

std::string label_chart(const std::vector<LabelRow>& labels) {
  BarChart chart{.caption = "Mined images per label", .x_axis = "label", .y_axis = "mined images"};
  for (const LabelRow& r : labels)
    chart.bars.emplace_back(r.label, r.mined);
  return svg_chart(chart, "#d08a4a");
}

// ---- tables ----

std::string label_table(const std::vector<LabelRow>& labels) {
  std::string html =
      "<h2>Per label</h2>\n<table class=\"labels\"><thead><tr><th>label</th><th>targets</th>"
      "<th>pool</th><th>pairs kept</th><th>pairs dropped</th><th>mined</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < labels.size() && i < kMaxHtmlLabels; ++i) {
    const LabelRow& r = labels[i];
    const bool zero = r.targets > 0 && r.pairs_kept == 0;  // flagged in the actions too
    html += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        zero ? " class=\"zero\"" : "", escape(r.label), r.targets, r.pool, r.pairs_kept,
        r.pairs_dropped, r.mined);
  }
  html += "</tbody></table>\n";
  if (labels.size() > kMaxHtmlLabels) {
    html += fmt::format("<p>{} more labels are not shown.</p>\n", labels.size() - kMaxHtmlLabels);
  }
  return html;
}

// ---- targets ----

// target row: (row, filepath, label); pair row: (target_row, pool_row, filepath, rank,
// distance, kept, dropped_by, label).
// Text targets (`target_text`) show their prompt where an image target shows its thumbnail.
std::string target_row(const TargetView& v, const std::vector<std::string>& t,
                       const std::vector<const std::vector<std::string>*>& pairs, bool thumbnail,
                       bool text_target) {
  std::string html = "<div class=\"target\">";
  if (text_target) {
    html += text_card(t[1], badge(t[2]) + "target " + t[0] + " (text)");
  } else {
    html += card(v, resolve(v.target_base, t[1]), "t_" + t[0] + ".jpg",
                 badge(t[2]) + "target " + t[0] + "<br>" + escape(t[1]), "query", thumbnail);
  }
  for (const auto* p : pairs) {
    const auto& r = *p;
    const bool kept = r[5] == "true";
    html += card(v, resolve(v.pool_base, r[2]), "p_" + r[1] + ".jpg",
                 badge(r[7]) + fmt::format("#{} · {}", r[3], r[4]) +
                     (kept ? "" : " · dropped (" + escape(r[6]) + ")") + "<br>" + escape(r[2]),
                 kept ? "" : "dropped", thumbnail);
  }
  return html + "</div>\n";
}

std::string targets_section(table::Database& db, const RunFacts& f, const TargetView& v,
                            bool target_labels, bool pool_labels) {
  const mine::MineReport& m = *f.mined;
  const size_t listed = std::min<size_t>(
      m.queries,
      std::max(kMaxThumbnailTargets, kMaxListedPairs / std::max<size_t>(1, f.mining.topn)));
  const Rows targets = rows_of(
      db,
      fmt::format("SELECT file_row_number::VARCHAR, {}, {} FROM read_parquet({}, "
                  "file_row_number = true) WHERE file_row_number < {} ORDER BY 1::BIGINT",
                  f.text_targets ? "text" : "filepath", target_labels ? "label::VARCHAR" : "NULL",
                  quoted(f.targets.embeddings), listed));
  // Rounded, then + 0.0: identical images print 0.0000 rather than -0.0000.
  const Rows pair_rows = rows_of(
      db, fmt::format(
              "SELECT p.target_row::VARCHAR, p.pool_row::VARCHAR, p.filepath, p.rank::VARCHAR, "
              "printf('%.4f', round(p.distance, 4) + 0.0), p.kept::VARCHAR, "
              "coalesce(p.dropped_by, ''), {} "
              "FROM read_parquet({}) p {} WHERE p.target_row < {} ORDER BY p.target_row, p.rank",
              pool_labels ? "s.label::VARCHAR" : "NULL",
              quoted(mine::pairs_path_for(f.run_dir / "mined.parquet")),
              pool_labels ? fmt::format("LEFT JOIN (SELECT file_row_number AS r, label FROM "
                                        "read_parquet({}, file_row_number = true)) s ON s.r = "
                                        "p.pool_row",
                                        quoted(f.pool.embeddings))
                          : "",
              listed));
  std::map<std::string, std::vector<const std::vector<std::string>*>> by_target;
  for (const auto& row : pair_rows)
    by_target[row[0]].push_back(&row);

  std::string html = fmt::format(
      "<h2>Targets and their neighbours</h2>\n<p>{} {} targets, {} per page; {}. Every image "
      "links to its file.{}</p>\n",
      targets.size() == m.queries ? "All" : "The first", targets.size(), kHtmlPageSize,
      thumbnails_words(targets.size()),
      targets.size() < m.queries
          ? fmt::format(" The other {} targets' pairs are in {}.", m.queries - targets.size(),
                        mine::pairs_path_for(f.run_dir / "mined.parquet").filename().string())
          : "");
  html += paging_controls(targets.size(), m.queries);
  for (size_t i = 0; i < targets.size(); ++i) {
    html += page_break(i);
    html += target_row(v, targets[i], by_target[targets[i][0]], i < kMaxThumbnailTargets,
                       f.text_targets);
  }
  if (!targets.empty()) html += "</section>\n";
  return html;
}

std::string summary(const RunFacts& f) {
  const mine::MineReport& m = *f.mined;
  const EncodersUsed used = encoders_used(f);
  return fmt::format(
      "<p>{} targets, pool of {}, top {} by {} distance: {} pairs, {} dropped by label, {} by "
      "threshold, {} duplicates removed, <b>{} unique images mined</b>. Details: "
      "<a href=\"Mining_Report.md\">Mining_Report.md</a>.</p>\n<p class=\"encoder{}\">{}</p>\n",
      m.queries, m.pool_size, f.mining.topn, index::metric_name(f.mining.metric), m.neighbours,
      m.dropped_by_label, m.dropped_by_threshold, m.duplicates_removed, m.unique_mined,
      used.mixed_precision() ? " mixed" : "", escape(encoder_sentence(used)));
}

}  // namespace

void write_html_report(const RunFacts& f, const Verdict& verdict,
                       const std::optional<std::vector<LabelRow>>& labels, OutputSet* outputs) {
  table::Database db;
  if (!f.mined) {
    // A run that stopped before mining finished: the verdict, what stopped it, what to do, and
    // the images that failed so far.
    std::string html = html_head("Mining report", verdict) +
                       fmt::format(
                           "<p>The run stopped before mining finished, so there are no "
                           "neighbours to show. Details: <a href=\"Mining_Report.md\">"
                           "Mining_Report.md</a>.</p>\n<p class=\"failure\">{}</p>\n",
                           escape(f.failure)) +
                       actions_list(recommended_actions(f, labels)) + failures_table(db, f) +
                       "</body></html>\n";
    write_file_atomically(f.run_dir / "report.html", html, outputs);
    return;
  }
  const TargetView view{.thumbs = f.run_dir / "thumbs",
                        .target_base = path_base(db, f.targets.embeddings),
                        .pool_base = path_base(db, f.pool.embeddings)};
  fs::create_directories(view.thumbs);

  std::string html = html_head("Mining report", verdict) + summary(f) +
                     actions_list(recommended_actions(f, labels));
  html += history_html(f) + coverage_html(f);
  html += distance_histogram(db, mine::pairs_path_for(f.run_dir / "mined.parquet"));
  if (labels && !labels->empty()) html += label_chart(*labels) + label_table(*labels);
  html += failures_table(db, f);
  html += targets_section(db, f, view, has_label(db, f.targets.embeddings),
                          has_label(db, f.pool.embeddings));
  html += paging_script() + "</body></html>\n";
  write_file_atomically(f.run_dir / "report.html", html, outputs);
}

}  // namespace deft::report
