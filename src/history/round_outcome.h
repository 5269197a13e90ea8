#pragma once
// What a round with a history found, for its summary, Mining_Report.md and report.html: its
// number, what the history excluded, the yields of every round, the forecast, the warnings and
// the recommended actions.
//
//   RoundOutcome o = ...;  settle_forecast(o, unmined, unmined_per_label, "topn (now 5)");
//   for (auto& [key, value] : history_summary_lines(o)) text += key + ": " + value + "\n";

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "history/forecast.h"
#include "history/manifest.h"
#include "history/mining_history.h"
#include "history/pool_groups.h"

namespace deft::history {

struct RoundOutcome {
  std::filesystem::path folder;
  int round = 0;
  std::string group_column;
  bool exclusion = true;       // exclude_history
  uint64_t excluded_rows = 0;  // pool rows left out because an earlier round mined them
  uint64_t history_rows = 0;   // pool rows whose group an earlier round mined
  uint64_t capped = 0;         // items dropped by max_pool_fraction
  double max_pool_fraction = 1.0;
  std::vector<RoundRecord> rounds;  // every round, this one last
  Forecast forecast;
  std::vector<std::string> repaired;  // what history_repair changed
  std::vector<std::string> warnings;  // yield drop, already-mined share, encoder not compared
  std::vector<std::string> actions;   // recommended, one sentence each
};

// Fills o.forecast from o.rounds, and adds the warnings and actions it calls for. `widen`: what
// to widen in this mode ("topn (now 5)", "desired_unique_count (now 100)").
void settle_forecast(RoundOutcome& o, uint64_t unmined,
                     const std::map<std::string, uint64_t>& unmined_per_label,
                     const std::string& widen);

// The outcome of this round of `history`: `record` holds its counts and per-label yields. The
// rows not yet mined (for the forecast) are the pool's rows less those in the history and this
// round's yield, within what max_pool_fraction allows.
RoundOutcome close_round(const MiningHistory& history, const PoolGroups& groups,
                         const HistorySettings& settings, const std::string& group_column,
                         const RoundRecord& record, const std::string& widen);

// deft's summary lines for the history, in order: (key, value).
std::vector<std::pair<std::string, std::string>> history_summary_lines(const RoundOutcome& o);

// "1: 40, 2: 38, 3: 5" — the yield per round.
std::string yields_text(const Forecast& f);

}  // namespace deft::history
