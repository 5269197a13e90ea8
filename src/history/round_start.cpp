#include "history/round_start.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "parallel/cluster.h"

namespace deft::history {

void open_round(table::Database& db, const HistorySettings& settings, PoolTableColumns pool,
                const std::optional<model::EncoderFingerprint>& pool_encoder, RoundStart& start) {
  if (!settings.active()) return;
  pool.group_column =
      resolve_group_column(db, pool.table, pool.filepath_column, settings.group_column);
  start.group_column = pool.group_column;
  start.pool = pool;
  const parallel::Cluster& cluster = parallel::Cluster::get();
  // Rank 0 first: it may repair the manifest the others then read.
  cluster.agree([&] {
    if (cluster.root())
      start.history =
          std::make_unique<MiningHistory>(db, settings, pool.group_column, pool_encoder);
  });
  cluster.agree([&] {
    if (!cluster.root())
      start.history = std::make_unique<MiningHistory>(db, settings, MiningHistory::Follow{});
    start.groups = scan_pool_groups(db, pool, start.history->mined_groups());
  });
  const std::string mine = std::to_string(start.groups.in_history_rows);
  const std::string root = cluster.broadcast(mine);
  cluster.agree([&] {
    if (mine != root) {
      throw Error(ErrorKind::kInput,
                  fmt::format("mining history '{}': rank {} finds {} pool rows mined before, rank "
                              "0 finds {}",
                              settings.folder.string(), cluster.rank(), mine, root),
                  "put the history folder where every rank reads the same files");
    }
  });
  log::info("history '{}': round {}; {} of the pool's {} rows were mined in earlier rounds{}",
            settings.folder.string(), start.history->round(), start.groups.in_history_rows,
            start.groups.rows, settings.exclude ? " and are left out" : "");
}

std::shared_ptr<PendingRound> pending_round(std::unique_ptr<MiningHistory> history,
                                            RoundRecord record, RoundRows rows,
                                            const std::vector<std::filesystem::path>& outputs,
                                            const std::filesystem::path& summary,
                                            const std::string& extension) {
  namespace fs = std::filesystem;
  record.outputs.clear();
  for (const fs::path& p : outputs) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    record.outputs.push_back({fs::absolute(p).lexically_normal().string(), sha256_file_hex(p),
                              static_cast<uint64_t>(fs::file_size(p, ec))});
  }
  std::ifstream in(summary, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return std::make_shared<PendingRound>(
      PendingRound{std::move(history), std::move(record), std::move(rows), text.str(), extension});
}

void PendingRound::commit(table::Database& db) {
  if (!history) return;
  history->append(db, std::move(record), rows, summary, extension);
  history.reset();  // the lock is released with it
}

}  // namespace deft::history
