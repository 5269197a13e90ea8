#include "report/mining_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "index/metric.h"
#include "report/history_parts.h"
#include "report/run_sections.h"
#include "table/duckdb_handles.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

bool label_filter_not_applied(const RunFacts& f) {
  return f.mined && f.mined->label_filter_outcome == mine::LabelFilterOutcome::kNotApplied;
}

bool pool_too_small(const RunFacts& f) {
  return f.mined && f.mined->pool_size < f.mining.topn * f.mined->queries;
}

// label (as text, NULL as "(none)") → count, from one SQL query of two columns.
std::map<std::string, uint64_t> counts(table::Database& db, const std::string& sql) {
  std::map<std::string, uint64_t> out;
  for (const auto& row : table::read_query_text(
           db, "SELECT l, n::VARCHAR FROM (" + sql + ") q(l, n)", "the per-label breakdown")) {
    out[row[0].value_or("(none)")] += std::stoull(*row[1]);
  }
  return out;
}

std::string quoted(const fs::path& p) {
  return table::sql_string_literal(p.string());
}

// A label whose targets kept no pair: why, and what would keep some.
std::string zero_pairs_action(const RunFacts& f, const LabelRow& r) {
  const std::string head = fmt::format("Label `{}` kept 0 pairs ({} of its targets' pairs dropped)",
                                       r.label, r.pairs_dropped);
  if (f.mining.filter_by_label && f.mining.label_mode == mine::LabelMode::kAfter && r.pool > 0) {
    return head + fmt::format(
                      ": its targets' nearest pool images all carry other labels, so the label "
                      "filter dropped every pair. Set `mining.label_mode=within` to search only "
                      "the {} pool images labelled `{}`.",
                      r.pool, r.label);
  }
  if (f.mining.filter_by_label && r.pool == 0) {
    return head + fmt::format(
                      ": no pool image has that label, so `mining.label_mode=within` cannot help "
                      "either; add pool images labelled `{}`, or check that both tables spell it "
                      "alike.",
                      r.label);
  }
  if (f.mining.distance_threshold >= 0) {
    return head + fmt::format(
                      ": every pair was farther than `mining.distance_threshold={}`; look at "
                      "that label's images, or raise the threshold.",
                      f.mining.distance_threshold);
  }
  return head + ": the search found no neighbour for its targets.";
}

std::vector<std::string> zero_pairs_actions(const RunFacts& f,
                                            const std::optional<std::vector<LabelRow>>& labels) {
  std::vector<std::string> actions;
  if (!labels) return actions;
  constexpr size_t kMaxNamed = 5;  // one sentence each: more would crowd out the rest
  size_t zero = 0;
  for (const LabelRow& r : *labels) {
    if (r.targets == 0 || r.pairs_kept > 0) continue;
    if (++zero <= kMaxNamed) actions.push_back(zero_pairs_action(f, r));
  }
  if (zero > kMaxNamed) {
    actions.push_back(fmt::format(
        "{} more labels kept 0 pairs (see the Per-Label Breakdown); the same applies to them.",
        zero - kMaxNamed));
  }
  return actions;
}

}  // namespace

Verdict judge(const RunFacts& f) {
  if (std::optional<Verdict> failed = failed_run(f)) return *failed;
  Verdict v;
  if (label_filter_not_applied(f)) {
    v.line = "CHECK: label filter did nothing";
    v.reasons.push_back(
        "filter_by_label was requested, but a table has no `label` column, so every neighbour "
        "was kept whatever its label.");
  }
  if (pool_too_small(f)) {
    if (v.line.empty()) v.line = "CHECK: pool smaller than topn × targets";
    v.reasons.push_back(fmt::format(
        "The pool has {} images but topn × targets asks for {}: targets necessarily share "
        "neighbours, and the mined set is capped by the pool.",
        f.mined->pool_size, f.mining.topn * f.mined->queries));
  }
  if (images_failed(f)) {
    if (v.line.empty()) v.line = "CHECK: images failed to embed";
    v.reasons.push_back("Some images could not be embedded and were left out (see Inputs).");
  }
  if (f.mined && f.mined->unique_mined == 0) {
    if (v.line.empty()) v.line = "CHECK: nothing mined";
    v.reasons.push_back("The run finished but mined no image (see Mining Run).");
  }
  if (v.line.empty()) {
    v.line = "OK";
    v.reasons.push_back(fmt::format(
        "{}, every requested filter applied, and the pool was large enough for the requested "
        "neighbours.",
        f.text_targets ? "The texts and the pool were embedded by one checkpoint's text and image "
                         "towers"
                       : "Both sides were embedded by the same encoder"));
  }
  return v;
}

std::optional<std::vector<LabelRow>> label_breakdown(const RunFacts& f) {
  if (!f.mined || !fs::exists(f.targets.embeddings)) return std::nullopt;
  table::Database db;
  {
    const std::string key = f.text_targets ? "text" : table::kFilepathColumn;
    table::TableReader targets(db, f.targets.embeddings, {.filepath_column = key});
    if (!targets.label_column()) return std::nullopt;
  }
  const bool pool_labels = [&] {
    table::TableReader pool(db, f.pool.embeddings);
    return pool.label_column().has_value();
  }();
  const fs::path pairs = mine::pairs_path_for(f.run_dir / "mined.parquet");
  // Grouped by the key mining compared labels by (the reference's upper-cased text by default).
  const std::string label_key = mine::label_key_sql("label", f.mining.label_compare);
  const std::string target_label = mine::label_key_sql("t.label", f.mining.label_compare);
  std::map<std::string, LabelRow> rows;
  const auto add = [&](const std::map<std::string, uint64_t>& c, uint64_t LabelRow::*field) {
    for (const auto& [label, n] : c) {
      rows[label].label = label;
      rows[label].*field = n;
    }
  };
  add(counts(db, fmt::format("SELECT {}, count(*) FROM read_parquet({}) GROUP BY 1", label_key,
                             quoted(f.targets.embeddings))),
      &LabelRow::targets);
  if (pool_labels) {
    add(counts(db, fmt::format("SELECT {}, count(*) FROM read_parquet({}) GROUP BY 1", label_key,
                               quoted(f.pool.embeddings))),
        &LabelRow::pool);
  }
  // Pairs by their target's label: the pairs file names target rows (file order).
  const std::string by_target = fmt::format(
      "FROM read_parquet({}) p JOIN (SELECT file_row_number AS target_row, label "
      "FROM read_parquet({}, file_row_number = true)) t USING (target_row)",
      quoted(pairs), quoted(f.targets.embeddings));
  add(counts(db, "SELECT " + target_label + ", count(*) " + by_target + " WHERE p.kept GROUP BY 1"),
      &LabelRow::pairs_kept);
  add(counts(db,
             "SELECT " + target_label + ", count(*) " + by_target + " WHERE NOT p.kept GROUP BY 1"),
      &LabelRow::pairs_dropped);
  if (pool_labels && f.mining.provenance) {
    add(counts(db, fmt::format("SELECT {}, count(*) FROM read_parquet({}) GROUP BY 1", label_key,
                               quoted(f.run_dir / "mined.parquet"))),
        &LabelRow::mined);
  }
  std::vector<LabelRow> out;
  for (auto& [label, row] : rows)
    out.push_back(row);
  return out;
}

std::string render(const RunFacts& f, const std::optional<std::vector<LabelRow>>& labels) {
  const Verdict v = judge(f);
  std::string md = "# Mining Report\n\n";
  md += fmt::format("Run folder `{}`, started {}.\n\n", f.run_dir.string(), f.started);

  md += verdict_section(
      v,
      "The verdict follows fixed rules, listed in the README under \"Mining_Report.md\": an "
      "encoder mismatch or a failed step is FAIL; a label filter that could not apply, a pool "
      "smaller than topn × targets, images that failed to embed, or an empty result is CHECK; "
      "anything else is OK.");

  md += inputs_section(f) + encoder_section(f);

  md += "## Mining Run\n\n";
  if (!f.mined) {
    md += "Mining did not finish in this run, so there are no neighbours to report.\n\n";
  } else {
    const mine::MineReport& m = *f.mined;
    md += fmt::format(
        "Each of the {} targets was compared with all {} pool images using the {} distance "
        "({} search), keeping the {} nearest.\n\n",
        m.queries, m.pool_size, index::metric_name(f.mining.metric), m.index, f.mining.topn);
    md += "| step | pairs or images |\n|---|---|\n";
    md += fmt::format("| neighbour pairs found | {} |\n", m.neighbours);
    md += fmt::format("| dropped by the label filter | {} |\n", m.dropped_by_label);
    md += fmt::format("| dropped by the distance threshold | {} |\n", m.dropped_by_threshold);
    md += fmt::format("| duplicates removed (pool images kept by several targets) | {} |\n",
                      m.duplicates_removed);
    md += fmt::format("| unique images mined | {} |\n\n", m.unique_mined);
    md += fmt::format(
        "Of the {} pairs found, {} ({}) survived the filters. Pool images that several targets "
        "chose are mined once, with the nearest target as their provenance, which is why {} "
        "duplicates were removed.\n\n",
        m.neighbours, m.neighbours - m.dropped_by_label - m.dropped_by_threshold,
        pct(m.neighbours - m.dropped_by_label - m.dropped_by_threshold, m.neighbours),
        m.duplicates_removed);
    md += fmt::format("Label filter: {}. ", m.label_filter);
    md += f.mining.distance_threshold < 0
              ? "Distance threshold: off, so no pair was dropped for being far. "
              : fmt::format("Distance threshold: {} ({} pairs were farther and dropped). ",
                            f.mining.distance_threshold, m.dropped_by_threshold);
    md += fmt::format("Mining took {:.1f} s.\n\n", m.seconds);
    md += history_markdown(f);
  }

  md += "## Per-Label Breakdown\n\n";
  md += coverage_markdown(f);
  if (!labels) {
    md += "Skipped: the targets have no `label` column, so there is nothing to break down by.\n\n";
  } else {
    md +=
        "Counted with DuckDB SQL over the run's parquet files: targets and pool images per "
        "label, neighbour pairs kept and dropped by the target's label, and mined images by "
        "their own (pool) label.\n\n";
    md += "| label | targets | pool | pairs kept | pairs dropped | mined |\n";
    md += "|---|---|---|---|---|---|\n";
    constexpr size_t kMaxRows = 25;  // keeps the report readable (and within its length)
    for (size_t i = 0; i < labels->size() && i < kMaxRows; ++i) {
      const LabelRow& r = (*labels)[i];
      md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r.label, r.targets, r.pool,
                        r.pairs_kept, r.pairs_dropped, r.mined);
    }
    if (labels->size() > kMaxRows) {
      md += fmt::format(
          "\n{} more labels are not shown; the same SQL over the run's files "
          "gives them all.\n",
          labels->size() - kMaxRows);
    }
    md +=
        "\nA label whose targets kept no pair found no same-label neighbour in the pool: "
        "that class needs more pool images, or its labels disagree between the tables.\n\n";
  }

  md += "## Output Sanity\n\n";
  if (f.mined) {
    const mine::MineReport& m = *f.mined;
    const uint64_t asked = f.mining.topn * m.queries;
    md += fmt::format("- `mined.parquet` has {} rows; the summary says {} unique images{}.\n",
                      f.mined_rows, m.unique_mined,
                      f.mined_rows == m.unique_mined ? " (they agree)" : " (THEY DISAGREE)");
    md += fmt::format(
        "- Unique mined {} against topn × targets = {} and a pool of {}: {} of the requested "
        "slots became distinct images.\n",
        m.unique_mined, asked, m.pool_size, pct(m.unique_mined, asked));
    md +=
        "- The mined list never holds more images than the pool, and never more than topn × "
        "targets; fewer distinct images than slots means that targets share neighbours.\n";
    md += fmt::format(
        "- Every pair, kept or dropped with its reason, is in `{}`; the counts "
        "are in `mining_summary.txt`.\n\n",
        mine::pairs_path_for(f.run_dir / "mined.parquet").filename().string());
  } else {
    md += "- No mined list was written.\n\n";
  }

  md += "## Recommended Actions\n\n";
  for (const std::string& a : recommended_actions(f, labels))
    md += "- " + a + "\n";
  return md;
}

std::vector<std::string> recommended_actions(const RunFacts& f,
                                             const std::optional<std::vector<LabelRow>>& labels) {
  std::vector<std::string> actions = failed_run_actions(f);
  if (label_filter_not_applied(f)) {
    actions.push_back(
        "Add a `label` column to both tables, or set filter_by_label=false on purpose; use "
        "strict=true to make this an error next time.");
  }
  if (pool_too_small(f)) {
    actions.push_back(
        "Enlarge the pool or lower topn: the pool cannot give every target "
        "its own neighbours.");
  }
  if (images_failed(f)) actions.push_back(images_failed_action());
  if (f.mined && f.mined->duplicates_removed * 2 > f.mined->neighbours && f.mined->neighbours > 0) {
    actions.push_back(
        "More than half of the kept pairs were duplicates: targets are very "
        "similar to one another; a larger topn or a more varied pool gives more "
        "distinct images.");
  }
  if (std::string mixed = mixed_precision_action(f); !mixed.empty()) actions.push_back(mixed);
  const std::vector<std::string> zero = zero_pairs_actions(f, labels);
  actions.insert(actions.end(), zero.begin(), zero.end());
  if (const history::RoundOutcome* h = f.history())
    actions.insert(actions.end(), h->actions.begin(), h->actions.end());
  if (actions.empty()) {
    actions.push_back(
        "Review a sample of `mined.parquet` (its provenance columns say which "
        "target each image came from and how close it was) before training.");
    actions.push_back(
        "Keep the run folder: its specs reproduce the run with `deft embed` and "
        "`deft mine`, and its pool embeddings make the next run faster.");
  }
  return actions;
}

}  // namespace deft::report
