// Mining_Report.md and report.html after a real `deft run` (thumbnail encoder): the encoder and
// precision as used (read from the embedding files, never the spec's `auto`, the thumbnail
// encoder named once), mixed precision named, failures with their reasons, the per-label table,
// labelled chart axes whose counts add up, links to the full images, paging past 100 targets,
// and a label that kept 0 pairs flagged with label_mode=within (which then keeps pairs).
#include <algorithm>
#include <numeric>
#include <regex>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mine/mine_job.h"
#include "model/fingerprint.h"
#include "report/html_report.h"
#include "report/mining_report.h"
#include "report_test_set.h"
#include "table/parquet_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_rows;

std::string html_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr const char* kThumbnail = "thumbnail (768-dim, 16×16 input)";

TEST(ReportEncoder, ShownAsUsedNamedOnceAndNeverAuto) {
  ScratchDir dir;
  testing::write_report_set(dir.path(), 6);
  // The spec asks for bf16; the thumbnail encoder computes in fp32 whatever is asked, and the
  // reports say what was used. The default (`auto`) gives the same text.
  for (const char* precision : {"embedding.precision=bf16", "embedding.precision=auto"}) {
    SCOPED_TRACE(precision);
    fs::remove_all(dir / "run");
    const auto r = testing::run_report_set(dir.path(), {precision});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string md = testing::read_text_file(dir / "run/Mining_Report.md");
    const std::string html = testing::read_text_file(dir / "run/report.html");
    const std::string sentence =
        fmt::format("Both sides were embedded by {}, computed in fp32.", kThumbnail);
    EXPECT_THAT(md, HasSubstr(sentence));
    EXPECT_TRUE(testing::contains(html, "<p class=\"encoder\">" + sentence + "</p>"));
    EXPECT_THAT(md, HasSubstr(fmt::format("- Targets: {}, computed in fp32 (weights none).\n"
                                          "- Pool: {}, computed in fp32 (weights none).\n",
                                          kThumbnail, kThumbnail)));
    EXPECT_THAT(
        md, HasSubstr(fmt::format(
                "Mining's check: same encoder, {}, computed in fp32 on both sides.", kThumbnail)));
    for (const std::string* text : {&md, &html}) {
      EXPECT_FALSE(std::regex_search(*text, std::regex(R"(\bauto\b)")));
      EXPECT_EQ(testing::occurrences(*text, "thumbnail thumbnail"), 0U);
      EXPECT_EQ(testing::occurrences(*text, "bf16"), 0U);
    }
  }
}

// Rewrites an embedding parquet with its fingerprint's compute dtype set to `dtype` (the other
// metadata and every row unchanged): a pool embedded elsewhere in bf16.
void set_compute_dtype(const fs::path& parquet, const std::string& dtype) {
  table::Database db;
  auto metadata = table::read_kv_metadata(db, parquet);
  auto fingerprint = model::fingerprint_in(metadata, parquet.string());
  ASSERT_TRUE(fingerprint.has_value());
  fingerprint->compute_dtype = dtype;
  metadata[model::kFingerprintKey] = fingerprint->to_json();
  std::string kv;
  for (const auto& [key, value] : metadata)
    kv += std::string(kv.empty() ? "" : ", ") + table::sql_string_literal(key) + ": " +
          table::sql_string_literal(value);
  const fs::path rewritten = parquet.string() + ".new";
  testing::sql_exec(db, fmt::format("COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT parquet, "
                                    "KV_METADATA {{{}}})",
                                    quoted(parquet), quoted(rewritten), kv));
  fs::rename(rewritten, parquet);
}

// `deft run` embeds both sides with one spec, and reuses an earlier pool only when it was
// computed in the same dtype, so it cannot produce this case by itself: the embeddings come
// from `deft embed`, the pool's fingerprint says bf16, and mining and both reports run here as
// `deft run` runs them.
TEST(ReportEncoder, MixedPrecisionIsNamedInBothReports) {
  ScratchDir dir;
  testing::write_report_set(dir.path(), 6);
  const fs::path run = dir / "run";
  fs::create_directories(run);
  report::RunFacts facts;
  facts.run_dir = run;
  facts.targets = {.table = dir / "targets.csv", .embeddings = run / "target_embeddings.parquet"};
  facts.pool = {.table = dir / "pool.csv", .embeddings = run / "source_embeddings.parquet"};
  for (const report::Side* side : {&facts.targets, &facts.pool}) {
    const auto e = testing::run_deft_binary(
        {"embed", "model=thumbnail", "input_parquet=" + side->table.string(),
         "output_parquet=" + side->embeddings.string(), "--quiet"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }
  set_compute_dtype(facts.pool.embeddings, "bf16");
  facts.mining = {.source = facts.pool.embeddings,
                  .target = facts.targets.embeddings,
                  .output = run / "mined.parquet",
                  .topn = 4,
                  .filter_by_label = true};
  facts.mined = mine::run_mine_job(facts.mining);  // same encoder: mining accepts the mix
  facts.mined_rows = facts.mined->unique_mined;
  const auto labels = report::label_breakdown(facts);
  const std::string md = report::render(facts, labels);
  report::write_html_report(facts, report::judge(facts), labels);
  const std::string html = testing::read_text_file(run / "report.html");

  const std::string mixed = "in mixed precision: the targets in fp32, the pool in bf16";
  const std::string sentence =
      fmt::format("Both sides were embedded by {}, {}.", kThumbnail, mixed);
  EXPECT_THAT(md, HasSubstr(sentence));
  EXPECT_THAT(md,
              HasSubstr(fmt::format("- Pool: {}, computed in bf16 (weights none).", kThumbnail)));
  EXPECT_THAT(md, HasSubstr(fmt::format("Mining's check: same encoder, {}, {}. Mining accepts that",
                                        kThumbnail, mixed)));
  EXPECT_THAT(md, HasSubstr("- Embed both sides in one precision (`precision=fp32` for both)"));
  EXPECT_THAT(md, Not(HasSubstr("on both sides")));
  EXPECT_TRUE(testing::contains(html, "<p class=\"encoder mixed\">" + sentence + "</p>"));
  EXPECT_TRUE(
      testing::contains(html,
                        "<li>Embed both sides in one precision (<code>precision=fp32</code> "
                        "for both)"));
  // Mining's own summary names the mix too (not the targets' precision for both sides).
  const std::string summary = testing::read_text_file(run / "mining_summary.txt");
  EXPECT_THAT(summary, HasSubstr("encoder_check: same encoder: thumbnail (768-dim, fp32, "
                                 "exif_orientation=ignore); mixed precision: targets fp32, pool "
                                 "bf16\n"));
  for (const std::string* text : {&md, &html, &summary})
    EXPECT_EQ(testing::occurrences(*text, "thumbnail thumbnail"), 0U);
}

// The kept distances' histogram: its svg, and the count in each bar's tooltip.
std::pair<std::string, std::vector<uint64_t>> histogram(const std::string& html) {
  const size_t start = html.find("<figcaption>Distances of the");
  const std::string svg = html.substr(start, html.find("</figure>", start) - start);
  std::vector<uint64_t> bars;
  const std::regex bar(R"(: (\d+) pairs</title>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator();
       ++it)
    bars.push_back(std::stoull((*it)[1]));
  return {svg, bars};
}

TEST(ReportHtml, FailuresLabelsChartsLinksAndPagingPastTheFirstHundredTargets) {
  ScratchDir dir;
  testing::write_report_set(dir.path(), 130);
  const auto r = testing::run_report_set(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run = dir / "run";
  const std::string html = testing::read_text_file(run / "report.html");
  table::Database db;

  // Each failure row, with the reason its sidecar gives.
  for (const auto& [side, sidecar, row, path] :
       {std::tuple{"targets", "target_embeddings.parquet.failed.parquet",
                   testing::kMissingTargetRow, "images/missing.png"},
        std::tuple{"pool", "source_embeddings.parquet.failed.parquet", testing::kCorruptPoolRow,
                   "images/corrupt.png"}}) {
    const auto rows =
        sql_rows(db, "SELECT input_row, filepath, reason FROM " + quoted(run / sidecar));
    ASSERT_EQ(rows.size(), 1U) << sidecar;
    EXPECT_EQ(rows[0][0], std::to_string(row));
    EXPECT_EQ(rows[0][1], path);
    EXPECT_TRUE(
        testing::contains(html, fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                            side, row, path, html_escaped(rows[0][2]))));
  }

  // The per-label table: SCRATCH (1 target, 2 pool images) kept none of its 4 pairs, flagged.
  EXPECT_TRUE(testing::contains(html,
                                "<tr class=\"zero\"><td>SCRATCH</td><td>1</td><td>2</td><td>0</td>"
                                "<td>4</td><td>0</td></tr>"));
  EXPECT_EQ(testing::occurrences(html, "<tr class=\"zero\">"), 1U);
  EXPECT_TRUE(testing::contains(html,
                                "<th>label</th><th>targets</th><th>pool</th><th>pairs kept</th>"
                                "<th>pairs dropped</th><th>mined</th>"));

  // Charts: labelled axes, and the histogram's bars add up to the kept pairs.
  const auto kept = sql_rows(
      db, "SELECT count(*) FROM " + quoted(run / "mined.parquet.pairs.parquet") + " WHERE kept");
  EXPECT_TRUE(
      testing::contains(html, "<figcaption>Distances of the " + kept[0][0] + " kept pairs"));
  const auto [svg, bars] = histogram(html);
  ASSERT_EQ(bars.size(), 20U);
  EXPECT_EQ(std::accumulate(bars.begin(), bars.end(), uint64_t{0}), std::stoull(kept[0][0]));
  // The pairs axis is ticked at 0 and at the tallest bar's count.
  for (const uint64_t tick : {uint64_t{0}, *std::max_element(bars.begin(), bars.end())})
    EXPECT_TRUE(testing::contains(svg, fmt::format("text-anchor=\"end\">{}</text>", tick)));
  for (const char* axis :
       {">distance</text>", ">pairs</text>", ">label</text>", ">mined images</text>"})
    EXPECT_EQ(testing::occurrences(html, axis), 1U) << axis;

  // Every target listed (131 embedded), in two pages; thumbnails for the first 100 targets and
  // their 4 neighbours, a linked box for the rest.
  EXPECT_EQ(testing::occurrences(html, "<div class=\"target\">"), 131U);
  EXPECT_TRUE(
      testing::contains(html, "Pages: <a href=\"#page-1\">1</a> <a href=\"#page-2\">2</a></nav>"));
  const size_t page2 = html.find("<section class=\"page\" id=\"page-2\">");
  ASSERT_NE(page2, std::string::npos);
  EXPECT_LT(html.find("target 99<br>"), page2);
  EXPECT_GT(html.find("target 100<br>"), page2);
  EXPECT_EQ(testing::occurrences(html, "<img src=\"thumbs/"), 100U * 5);
  EXPECT_EQ(testing::occurrences(html, "<div class=\"nothumb\">"), 31U * 5);
  EXPECT_TRUE(testing::contains(html, "<input id=\"filter\" type=\"search\""));
  EXPECT_TRUE(testing::contains(html, "<script>"));

  // Links to the full images (absolute, percent-encoded), and nothing from the network.
  EXPECT_TRUE(testing::contains(html, "<a href=\"file://" + (dir / "images/t000.png").string() +
                                          "\"><img src=\"thumbs/t_0.jpg\""));
  EXPECT_TRUE(testing::contains(
      html, "<a href=\"file://" + (dir / "images/odd%20name%20%231.png").string() + "\">"));
  EXPECT_EQ(testing::occurrences(html, "src=\"http"), 0U);
  EXPECT_EQ(testing::occurrences(html, "href=\"http"), 0U);
  EXPECT_TRUE(testing::contains(html, "overflow-wrap:anywhere"));
}

TEST(ReportActions, ALabelThatKeptNoPairIsFlaggedAndLabelModeWithinKeepsItsPairs) {
  ScratchDir dir;
  testing::write_report_set(dir.path(), 6);
  auto r = testing::run_report_set(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string flag =
      "Label `SCRATCH` kept 0 pairs (4 of its targets' pairs dropped): its targets' nearest pool "
      "images all carry other labels, so the label filter dropped every pair. Set "
      "`mining.label_mode=within` to search only the 2 pool images labelled `SCRATCH`.";
  std::string md = testing::read_text_file(dir / "run/Mining_Report.md");
  const size_t actions = md.find("## Recommended Actions\n");
  ASSERT_NE(actions, std::string::npos);
  EXPECT_THAT(md.substr(actions), HasSubstr("- " + flag + "\n"));
  EXPECT_EQ(testing::occurrences(md, "kept 0 pairs"), 1U);  // only SCRATCH
  std::string html_flag = html_escaped(flag);
  html_flag = std::regex_replace(html_flag, std::regex("`([^`]*)`"), "<code>$1</code>");
  EXPECT_TRUE(testing::contains(testing::read_text_file(dir / "run/report.html"),
                                "<li>" + html_flag + "</li>"));

  // As suggested: the scratch target's neighbours are then its label's 2 pool images.
  fs::remove_all(dir / "run");
  r = testing::run_report_set(dir.path(), {"mining.label_mode=within"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  md = testing::read_text_file(dir / "run/Mining_Report.md");
  EXPECT_THAT(md, HasSubstr("| SCRATCH | 1 | 2 | 2 | 0 | 2 |"));
  EXPECT_THAT(md, Not(HasSubstr("kept 0 pairs")));
  EXPECT_EQ(
      testing::occurrences(testing::read_text_file(dir / "run/report.html"), "class=\"zero\""), 0U);
}

}  // namespace
}  // namespace deft
