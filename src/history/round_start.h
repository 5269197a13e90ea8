#pragma once
// How a mining or selection round begins and ends with a history, shared by `deft mine` and
// `deft select`:
//
//   RoundStart start;
//   open_round(db, settings, {.table = pool, .filepath_column = "filepath", .path_base = base},
//              encoder, start);                     // locked, verified; the pool's rows scanned
//   ... the search leaves out start.groups.in_history ...
//   PendingRound pending{std::move(start.history), record, rows, summary, "txt"};
//   pending.commit(db);                             // now, or (deft run) after its reports
//
// Under mpirun rank 0 holds the history (lock, checks, repair, append); the other ranks read
// the groups its rounds mined, and every rank checks that it read the same as rank 0 (a
// history folder that not every rank sees would otherwise split their searches).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "history/mining_history.h"
#include "history/pool_groups.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"

namespace deft::history {

struct RoundStart {
  std::unique_ptr<MiningHistory> history;  // null: no history
  PoolGroups groups;
  std::string group_column;
  PoolTableColumns pool;  // as scanned (groups_of_rows reads the round's rows the same way)
};

// `pool.group_column` is resolved here (settings.group_column, else the first candidate).
void open_round(table::Database& db, const HistorySettings& settings, PoolTableColumns pool,
                const std::optional<model::EncoderFingerprint>& pool_encoder, RoundStart& start);

// A round whose outputs are written, waiting to be recorded (it holds the history's lock).
// `deft mine` and `deft select` commit it at once; `deft run` only once its reports are written
// and the run is marked complete, so that a run continued after a failure never records its
// round twice.
struct PendingRound {
  std::unique_ptr<MiningHistory> history;
  RoundRecord record;
  RoundRows rows;
  std::string summary;
  std::string extension;  // of the summary's copy: txt, json
  // Appends the round (MiningHistory::append). Throws Error(kRun) when a write fails.
  void commit(table::Database& db);
};

// The round, ready to record: `outputs` (the files the round wrote where it wrote them; a
// missing one is left out) hashed for the manifest, and `summary` read for the history's copy
// (round_<NNNN>_summary.<extension>).
std::shared_ptr<PendingRound> pending_round(std::unique_ptr<MiningHistory> history,
                                            RoundRecord record, RoundRows rows,
                                            const std::vector<std::filesystem::path>& outputs,
                                            const std::filesystem::path& summary,
                                            const std::string& extension);

}  // namespace deft::history
