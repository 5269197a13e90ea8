#pragma once
// What the rounds so far say about the next ones: the yield per round (items a round added to
// the history), the share of this round's candidates that earlier rounds had mined, a warning
// when the yield fell by more than half, and how many more rounds the pool can feed at the
// current rate, overall and per label. Pure functions: the summary, Mining_Report.md and
// report.html all print the same figures.
//
// The forecast (rounds_left), from this round's yield y, the previous round's y' and the pool
// rows no round has mined yet, R (after this round; under max_pool_fraction, what the cap still
// allows):
//   - y = 0: 0 rounds.
//   - y < y' (the yield is falling): the rate q = y / y' is assumed to hold, so round k from
//     now yields y·q^k; the forecast counts the rounds k = 1, 2, … while y·q^k ≥ 1 and the
//     running total stays within R.
//   - otherwise (first round, or a yield that held or grew): floor(R / y), the rounds the
//     unmined rows last at this yield.
//
//   Forecast f = forecast_rounds(rounds, unmined_rows, per_label_unmined);
//   if (f.yield_drop) log::warn("{}", *f.yield_drop);

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "history/manifest.h"

namespace deft::history {

// The rounds the pool can still feed at `yield` after a round that yielded `previous`
// (nullopt: no previous round), with `unmined` rows left (see above).
uint64_t rounds_left(uint64_t yield, std::optional<uint64_t> previous, uint64_t unmined);

struct LabelForecast {
  std::string label;
  uint64_t yield = 0;                // this round
  std::optional<uint64_t> previous;  // the round before (nullopt: first round)
  uint64_t unmined = 0;              // the label's pool rows no round has mined
  uint64_t rounds_left = 0;
};

struct Forecast {
  // Every round so far, this one last: (round, yield).
  std::vector<std::pair<int, uint64_t>> yields;
  uint64_t candidates = 0;  // this round's
  uint64_t candidates_already_mined = 0;
  double already_mined_share = 0;         // of the candidates, 0..1
  std::optional<std::string> yield_drop;  // the warning, when the yield fell by more than half
  uint64_t unmined = 0;
  uint64_t rounds_left = 0;
  std::vector<LabelForecast> per_label;  // empty without labels
  // In words: "about 3 more rounds at 40 items a round (212 pool rows not yet mined)".
  std::string words() const;
};

// `rounds`: every round's record, this one last (its counts and per-label yields filled).
// `unmined`: pool rows no round (this one included) has mined, within what max_pool_fraction
// allows; `unmined_per_label` likewise per label (may be empty).
Forecast forecast_rounds(const std::vector<RoundRecord>& rounds, uint64_t unmined,
                         const std::map<std::string, uint64_t>& unmined_per_label);

// Share of candidates already mined from which the summary says to widen the search.
inline constexpr double kAlreadyMinedWarning = 0.5;

}  // namespace deft::history
