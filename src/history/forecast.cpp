#include "history/forecast.h"

#include <cmath>

#include <fmt/format.h>

namespace deft::history {

uint64_t rounds_left(uint64_t yield, std::optional<uint64_t> previous, uint64_t unmined) {
  if (yield == 0) return 0;
  if (!previous || yield >= *previous) return unmined / yield;
  const double q = static_cast<double>(yield) / static_cast<double>(*previous);
  double next = static_cast<double>(yield), total = 0;
  uint64_t rounds = 0;
  // q < 1: the terms fall below 1 within log(y)/log(1/q) steps; the bound is only a guard.
  while (rounds < 100000) {
    next *= q;
    if (next < 1.0 || total + next > static_cast<double>(unmined)) break;
    total += next;
    ++rounds;
  }
  return rounds;
}

Forecast forecast_rounds(const std::vector<RoundRecord>& rounds, uint64_t unmined,
                         const std::map<std::string, uint64_t>& unmined_per_label) {
  Forecast f;
  if (rounds.empty()) return f;
  for (const RoundRecord& r : rounds)
    f.yields.emplace_back(r.round, r.counts.mined);
  const RoundRecord& now = rounds.back();
  const RoundRecord* before = rounds.size() > 1 ? &rounds[rounds.size() - 2] : nullptr;
  f.candidates = now.counts.candidates;
  f.candidates_already_mined = now.counts.candidates_already_mined;
  f.already_mined_share = f.candidates == 0 ? 0.0
                                            : static_cast<double>(f.candidates_already_mined) /
                                                  static_cast<double>(f.candidates);
  const uint64_t y = now.counts.mined;
  const std::optional<uint64_t> previous =
      before ? std::optional(before->counts.mined) : std::nullopt;
  if (previous && *previous > 0 && 2 * y < *previous) {
    f.yield_drop = fmt::format(
        "the yield dropped by more than half, from {} in round {} to {} in round {} ({:+.0f}%)",
        *previous, before->round, y, now.round,
        100.0 * (static_cast<double>(y) - static_cast<double>(*previous)) /
            static_cast<double>(*previous));
  }
  f.unmined = unmined;
  f.rounds_left = rounds_left(y, previous, unmined);
  for (const auto& [label, left] : unmined_per_label) {
    LabelForecast l{label, 0, std::nullopt, left, 0};
    if (const auto it = now.mined_per_label.find(label); it != now.mined_per_label.end())
      l.yield = it->second;
    if (before) {
      const auto it = before->mined_per_label.find(label);
      l.previous = it == before->mined_per_label.end() ? 0 : it->second;
    }
    l.rounds_left = rounds_left(l.yield, l.previous, left);
    f.per_label.push_back(l);
  }
  return f;
}

std::string Forecast::words() const {
  if (yields.empty()) return "no rounds";
  const uint64_t y = yields.back().second;
  if (y == 0) {
    return fmt::format(
        "the pool no longer feeds these targets: this round mined nothing new "
        "({} pool rows not yet mined)",
        unmined);
  }
  const bool falling = yields.size() > 1 && y < yields[yields.size() - 2].second;
  return fmt::format("about {} more round{} at {} ({} pool rows not yet mined)", rounds_left,
                     rounds_left == 1 ? "" : "s",
                     falling ? fmt::format("the falling rate ({} this round, {} the round before)",
                                           y, yields[yields.size() - 2].second)
                             : fmt::format("{} items a round", y),
                     unmined);
}

}  // namespace deft::history
