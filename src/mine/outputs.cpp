#include "mine/outputs.h"

#include "common/atomic_file.h"
#include "common/output_set.h"
#include "mine/summary.h"
#include "model/fingerprint.h"
#include "table/parquet_writer.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/value_columns.h"

namespace deft::mine {

namespace fs = std::filesystem;

namespace {

std::optional<int64_t> as_integer(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::stoll(*text);
}

// What makes the mined list readable on its own: the tables it came from, the folder its
// relative paths are relative to (which `deft embed` resolves them against), the pool's
// encoder and the spec that mined it.
std::vector<std::pair<std::string, std::string>> mined_metadata(table::Database& db,
                                                                const MineJob& job,
                                                                const table::TableReader& pool,
                                                                const fs::path& pool_base) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"deft.source", fs::absolute(job.source).lexically_normal().string()},
      {"deft.target", fs::absolute(job.target).lexically_normal().string()},
      {table::kPathBaseKey, pool_base.string()},
  };
  if (pool.format() == table::TableFormat::kParquet) {
    const auto metadata = table::read_kv_metadata(db, pool.path());
    const auto encoder = metadata.find(model::kFingerprintKey);
    if (encoder != metadata.end()) kv.emplace_back("deft.source_encoder", encoder->second);
  }
  if (!job.spec.empty()) kv.emplace_back("deft.mining_spec", job.spec);
  return kv;
}

}  // namespace

void write_mining_outputs(table::Database& db, const MineJob& job, const table::TableReader& pool,
                          const MiningResult& r, MineReport& report) {
  // The mined parquet.
  using Kind = table::ValueColumn::Kind;
  const bool integer_labels = r.pool_label_kind == LabelKind::kInteger;
  auto filepath = table::ValueColumn::of("filepath", Kind::kText);
  auto best_target = table::ValueColumn::of("target_filepath", Kind::kText);
  auto distance = table::ValueColumn::of("distance", Kind::kReal);
  auto rank = table::ValueColumn::of("rank", Kind::kInt);
  auto hits = table::ValueColumn::of("target_hits", Kind::kInt);
  auto label = table::ValueColumn::of("label", integer_labels ? Kind::kInt : Kind::kText);
  for (const MinedImage& m : r.mined.images) {
    const PoolRowInfo& info = r.seen.at(m.pool_row);
    filepath.text.emplace_back(
        job.absolute_paths ? table::resolve_filepath(info.path, r.pool_base).string() : info.path);
    best_target.text.emplace_back(r.target_paths[m.best->target]);
    distance.reals.emplace_back(m.best->neighbour.distance);
    rank.ints.emplace_back(m.best->rank);
    hits.ints.emplace_back(m.hits);
    if (integer_labels) {
      label.ints.push_back(as_integer(info.label));
    } else {
      label.text.push_back(info.label);
    }
  }
  std::vector<table::ValueColumn> columns = {filepath};
  if (job.provenance) {
    columns.insert(columns.end(), {best_target, distance, rank, hits});
    if (r.pool_label_kind) columns.push_back(label);
  }
  // The three outputs are committed together: a failure before the last leaves the previous
  // trio as it was.
  OutputSet outputs;
  table::write_value_columns(
      db, job.output, columns,
      {.kv_metadata = mined_metadata(db, job, pool, r.pool_base), .output_set = &outputs});

  // Every pair, for audits.
  auto pair_target = table::ValueColumn::of("target_filepath", Kind::kText);
  auto pair_target_row = table::ValueColumn::of("target_row", Kind::kInt);
  auto pair_source = table::ValueColumn::of("filepath", Kind::kText);
  auto pair_pool_row = table::ValueColumn::of("pool_row", Kind::kInt);
  auto pair_rank = table::ValueColumn::of("rank", Kind::kInt);
  auto pair_distance = table::ValueColumn::of("distance", Kind::kReal);
  auto pair_kept = table::ValueColumn::of("kept", Kind::kBool);
  auto pair_dropped = table::ValueColumn::of("dropped_by", Kind::kText);
  for (const Pair& p : r.pairs) {
    pair_target.text.emplace_back(r.target_paths[p.target]);
    pair_target_row.ints.emplace_back(static_cast<int64_t>(p.target));
    pair_source.text.emplace_back(r.seen.at(p.neighbour.pool_row).path);
    pair_pool_row.ints.emplace_back(static_cast<int64_t>(p.neighbour.pool_row));
    pair_rank.ints.emplace_back(p.rank);
    pair_distance.reals.emplace_back(p.neighbour.distance);
    pair_kept.flags.emplace_back(p.dropped_by == DropReason::kKept);
    pair_dropped.text.push_back(drop_reason_name(p.dropped_by));
  }
  report.pairs_path = pairs_path_for(job.output);
  table::write_value_columns(db, report.pairs_path,
                             {pair_target, pair_target_row, pair_source, pair_pool_row, pair_rank,
                              pair_distance, pair_kept, pair_dropped},
                             {.output_set = &outputs});

  report.summary_path = summary_path_for(job.output);
  write_file_atomically(report.summary_path, summary_text(job, report, r.label_filter_ran),
                        &outputs);
  outputs.commit();
}

}  // namespace deft::mine
