#include "report/history_parts.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "report/html_parts.h"

namespace deft::report {

namespace {

constexpr size_t kMaxRounds = 12;  // the last rounds shown; the manifest has them all

std::string coverage_sentence(const mine::Coverage& c) {
  std::string text;
  if (!c.absent.empty()) {
    text += fmt::format("No pool row has the target label{} {} ({} of {} target labels). ",
                        c.absent.size() > 1 ? "s" : "", fmt::join(c.absent, ", "), c.absent.size(),
                        c.labels.size());
  }
  if (!c.scarce.empty()) {
    text += fmt::format(
        "The pool is scarce for {}: fewer pool rows than topn ({}) × their targets (the rare "
        "classes a class-stratified selection can take). ",
        fmt::join(c.scarce, ", "), c.topn);
  }
  return text;
}

}  // namespace

std::string coverage_markdown(const RunFacts& f) {
  const std::string s = coverage_sentence(f.coverage);
  return s.empty() ? "" : "Coverage, checked before any image was decoded: " + s + "\n\n";
}

std::string coverage_html(const RunFacts& f) {
  const std::string s = coverage_sentence(f.coverage);
  return s.empty() ? "" : "<p class=\"failure\">Coverage: " + escape(s) + "</p>\n";
}

std::string history_markdown(const RunFacts& f) {
  const history::RoundOutcome* o = f.history();
  if (o == nullptr) return "";
  const history::Forecast& fc = o->forecast;
  std::string md = fmt::format(
      "**Rounds.** This is round {} of the mining history `{}` (items identified by `{}`). ",
      o->round, o->folder.string(), o->group_column);
  md += o->exclusion
            ? fmt::format("{} pool rows mined in earlier rounds were left out of the search. ",
                          o->excluded_rows)
            : fmt::format(
                  "exclude_history=false: the {} pool rows mined before were searched "
                  "again. ",
                  o->history_rows);
  md += fmt::format(
      "Of this round's {} candidates (each target's nearest over the whole pool), {} ({:.0f}%) "
      "had been mined before. Forecast: {}.\n\n",
      fc.candidates, fc.candidates_already_mined, 100.0 * fc.already_mined_share, fc.words());
  // The table carries a small bar chart: 20 blocks for the largest yield shown.
  md += "| round | yield | |\n|---|---|---|\n";
  const size_t first = fc.yields.size() > kMaxRounds ? fc.yields.size() - kMaxRounds : 0;
  uint64_t top = 1;
  for (size_t i = first; i < fc.yields.size(); ++i)
    top = std::max(top, fc.yields[i].second);
  for (size_t i = first; i < fc.yields.size(); ++i) {
    const auto blocks = static_cast<size_t>(
        std::lround(20.0 * static_cast<double>(fc.yields[i].second) / static_cast<double>(top)));
    std::string bar;
    for (size_t b = 0; b < blocks; ++b)
      bar += "\u2588";
    md += fmt::format("| {} | {} | {} |\n", fc.yields[i].first, fc.yields[i].second, bar);
  }
  md += "\n";
  for (const std::string& w : o->warnings)
    md += "Warning: " + w + ".\n\n";
  if (!o->repaired.empty())
    md += fmt::format("history_repair changed: {}.\n\n", fmt::join(o->repaired, "; "));
  return md;
}

std::string history_html(const RunFacts& f) {
  const history::RoundOutcome* o = f.history();
  if (o == nullptr) return "";
  const history::Forecast& fc = o->forecast;
  std::string html = fmt::format(
      "<h2>Rounds</h2>\n<p>Round {} of the mining history <code>{}</code>: {} pool rows mined "
      "in earlier rounds {}; {} of {} candidates ({:.0f}%) were mined before. Forecast: {}.</p>\n",
      o->round, escape(o->folder.string()), o->exclusion ? o->excluded_rows : o->history_rows,
      o->exclusion ? "were left out" : "were searched again", fc.candidates_already_mined,
      fc.candidates, 100.0 * fc.already_mined_share, escape(fc.words()));
  for (const std::string& w : o->warnings)
    html += "<p class=\"failure\">" + escape(w) + "</p>\n";
  // The yield per round as bars (inline SVG, no script).
  const size_t first = fc.yields.size() > kMaxRounds ? fc.yields.size() - kMaxRounds : 0;
  uint64_t top = 1;
  for (size_t i = first; i < fc.yields.size(); ++i)
    top = std::max(top, fc.yields[i].second);
  constexpr int kBar = 36, kGap = 12, kHeight = 120, kBase = 140;
  const int width = static_cast<int>(fc.yields.size() - first) * (kBar + kGap) + kGap;
  html += fmt::format(
      "<svg class=\"chart\" width=\"{}\" height=\"170\" role=\"img\" aria-label=\"yield per "
      "round\">\n",
      width);
  for (size_t i = first; i < fc.yields.size(); ++i) {
    const auto [round, yield] = fc.yields[i];
    const int h = static_cast<int>(kHeight * static_cast<double>(yield) / static_cast<double>(top));
    const int x = kGap + static_cast<int>(i - first) * (kBar + kGap);
    html += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#4e79a7\"><title>round {}: "
        "{}</title></rect><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>"
        "<text x=\"{}\" y=\"158\" font-size=\"11\" text-anchor=\"middle\">r{}</text>\n",
        x, kBase - h, kBar, h, round, yield, x + kBar / 2, kBase - h - 3, yield, x + kBar / 2,
        round);
  }
  html +=
      "</svg>\n<table class=\"labels\"><thead><tr><th>round</th><th>yield</th></tr></thead>"
      "<tbody>\n";
  for (size_t i = first; i < fc.yields.size(); ++i)
    html +=
        fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", fc.yields[i].first, fc.yields[i].second);
  html += "</tbody></table>\n";
  if (!fc.per_label.empty()) {
    html +=
        "<table class=\"labels\"><thead><tr><th>label</th><th>yield</th><th>not yet "
        "mined</th><th>rounds left</th></tr></thead><tbody>\n";
    for (const history::LabelForecast& l : fc.per_label) {
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          escape(l.label), l.yield, l.unmined, l.rounds_left);
    }
    html += "</tbody></table>\n";
  }
  return html;
}

}  // namespace deft::report
