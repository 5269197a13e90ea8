#include "history/round_outcome.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/log.h"

namespace deft::history {

void settle_forecast(RoundOutcome& o, uint64_t unmined,
                     const std::map<std::string, uint64_t>& unmined_per_label,
                     const std::string& widen) {
  o.forecast = forecast_rounds(o.rounds, unmined, unmined_per_label);
  const Forecast& f = o.forecast;
  if (f.candidates > 0 && f.already_mined_share >= kAlreadyMinedWarning) {
    o.warnings.push_back(fmt::format(
        "{:.0f}% of this round's candidates ({} of {}) were already mined in earlier rounds",
        100.0 * f.already_mined_share, f.candidates_already_mined, f.candidates));
    o.actions.push_back(fmt::format(
        "Widen {} or enlarge the pool: {:.0f}% of the nearest pool images were mined before.",
        widen, 100.0 * f.already_mined_share));
  }
  if (f.yield_drop) {
    o.warnings.push_back(*f.yield_drop);
    o.actions.push_back(fmt::format(
        "The yield fell by more than half: enlarge the pool near the targets, or widen {}.",
        widen));
  }
  const uint64_t y = f.yields.empty() ? 0 : f.yields.back().second;
  if (y == 0) {
    o.actions.push_back("This round mined nothing new: enlarge the pool, or lower the budget.");
  } else if (f.rounds_left <= 1) {
    o.actions.push_back(
        fmt::format("The pool can feed about {} more round{} at this rate: "
                    "enlarge the pool before the next one.",
                    f.rounds_left, f.rounds_left == 1 ? "" : "s"));
  }
  std::vector<std::string> exhausted;
  for (const LabelForecast& l : f.per_label) {
    if (l.rounds_left == 0 && (l.yield > 0 || l.previous.value_or(0) > 0))
      exhausted.push_back(l.label);
  }
  if (!exhausted.empty()) {
    o.actions.push_back(fmt::format(
        "Label{} {} will be exhausted after this round: add pool images of {} before the next "
        "one.",
        exhausted.size() > 1 ? "s" : "", fmt::join(exhausted, ", "),
        exhausted.size() > 1 ? "them" : "it"));
  }
  for (const std::string& w : o.warnings)
    log::warn("history: {}", w);
  log::info("history: round {}; yield per round {}; forecast: {}", o.round, yields_text(f),
            f.words());
}

RoundOutcome close_round(const MiningHistory& h, const PoolGroups& g,
                         const HistorySettings& settings, const std::string& group_column,
                         const RoundRecord& record, const std::string& widen) {
  RoundOutcome o;
  o.folder = settings.folder;
  o.round = record.round;
  o.group_column = group_column;
  o.exclusion = settings.exclude;
  o.excluded_rows = record.counts.excluded_by_history;
  o.history_rows = g.in_history_rows;
  o.capped = record.counts.capped;
  o.max_pool_fraction = settings.max_pool_fraction;
  o.rounds = h.manifest().rounds;
  o.rounds.push_back(record);
  o.repaired = h.repaired();
  o.warnings = h.warnings();
  const auto minus = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  const uint64_t mined = record.counts.mined;
  uint64_t unmined = minus(g.rows, g.in_history_rows + mined);
  if (settings.max_pool_fraction < 1.0) {
    const auto cap = static_cast<uint64_t>(settings.max_pool_fraction *
                                           static_cast<double>(record.counts.pool_rows));
    unmined = std::min(unmined, minus(cap, h.mined_so_far() + mined));
  }
  std::map<std::string, uint64_t> unmined_per_label;
  for (const auto& entry : g.rows_per_label) {
    const std::string& label = entry.first;
    const uint64_t n = entry.second;
    const auto in = [&label](const std::map<std::string, uint64_t>& m) {
      const auto it = m.find(label);
      return it == m.end() ? uint64_t{0} : it->second;
    };
    unmined_per_label[label] =
        std::min(unmined, minus(n, in(g.history_rows_per_label) + in(record.mined_per_label)));
  }
  settle_forecast(o, unmined, unmined_per_label, widen);
  return o;
}

std::string yields_text(const Forecast& f) {
  std::vector<std::string> parts;
  for (const auto& [round, yield] : f.yields)
    parts.push_back(fmt::format("{}: {}", round, yield));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<std::pair<std::string, std::string>> history_summary_lines(const RoundOutcome& o) {
  const Forecast& f = o.forecast;
  std::vector<std::pair<std::string, std::string>> lines = {
      {"history", o.folder.string()},
      {"history_round", std::to_string(o.round)},
      {"group_column", o.group_column},
      {"excluded_by_history",
       o.exclusion ? std::to_string(o.excluded_rows)
                   : fmt::format("0 (exclude_history=false; {} pool rows were mined before)",
                                 o.history_rows)},
      {"candidates_already_mined", fmt::format("{} of {} ({:.1f}%)", f.candidates_already_mined,
                                               f.candidates, 100.0 * f.already_mined_share)},
      {"yield_per_round", yields_text(f)},
      {"rounds_left_forecast", fmt::format("{} ({})", f.rounds_left, f.words())},
  };
  if (!f.per_label.empty()) {
    std::vector<std::string> parts;
    for (const LabelForecast& l : f.per_label)
      parts.push_back(
          fmt::format("{} {} (yield {}, {} unmined)", l.label, l.rounds_left, l.yield, l.unmined));
    lines.emplace_back("rounds_left_per_label", fmt::format("{}", fmt::join(parts, "; ")));
  }
  if (o.max_pool_fraction < 1.0) {
    lines.emplace_back("max_pool_fraction", fmt::format("{} ({} dropped by the cap this round)",
                                                        o.max_pool_fraction, o.capped));
  }
  lines.emplace_back("history_warnings",
                     o.warnings.empty() ? "none" : fmt::format("{}", fmt::join(o.warnings, "; ")));
  lines.emplace_back("history_actions",
                     o.actions.empty() ? "none" : fmt::format("{}", fmt::join(o.actions, " ")));
  if (!o.repaired.empty())
    lines.emplace_back("history_repair", fmt::format("{}", fmt::join(o.repaired, "; ")));
  return lines;
}

}  // namespace deft::history
