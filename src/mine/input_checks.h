#pragma once
// What `deft mine` checks before any search, each a one-line error naming the file:
//
//   guard_outputs(db, job);                         // outputs never replace an input
//   EncoderCheckResult said = check_encoders(db, target, source, false);  // fingerprints agree
//   LabelPlan labels = plan_labels(job, targets, pool);           // the label filter can apply
//   require_usable_vectors(v, rows, dim, first, path, column, metric);   // finite, directed

#include <cstdint>
#include <filesystem>
#include <string>

#include "index/metric.h"
#include "mine/mine_job.h"

namespace deft::table {
class Database;
class TableReader;
}  // namespace deft::table

namespace deft::mine {

// The three outputs never land on an input, and the mined list never replaces an embedding
// parquet. Throws Error(kUsage).
void guard_outputs(table::Database& db, const MineJob& job);

struct EncoderCheckResult {
  EncoderCheck outcome = EncoderCheck::kSame;
  std::string words;  // for the summary
};

// Compares the two tables' encoder fingerprints. Throws Error(kInput) for different encoders
// unless allow_mismatch (allow_encoder_mismatch). Mining and unique matching both ask it.
EncoderCheckResult check_encoders(table::Database& db, const std::filesystem::path& targets,
                                  const std::filesystem::path& pool, bool allow_mismatch);

// The column naming a table's rows: `text` for a text-embedding table (its fingerprint's tower
// is text: `deft embed-text` output), else `filepath`.
std::string key_column(table::Database& db, const std::filesystem::path& table);

// Throws naming up to five rows whose vectors are not finite (or, for cosine, have no
// direction: zero length).
void require_usable_vectors(const float* vectors, size_t rows, size_t dim, uint64_t first_row,
                            const std::filesystem::path& path, const std::string& column,
                            index::Metric metric);

struct LabelPlan {
  LabelFilterOutcome outcome = LabelFilterOutcome::kOff;
  std::string state;  // for the summary
  bool apply() const { return outcome == LabelFilterOutcome::kApplied; }
};

// Whether filter_by_label can apply (both tables have labels of comparable kinds), and what
// the summary says of it. Throws Error(kInput) where strict or typed comparison refuses.
LabelPlan plan_labels(const MineJob& job, const table::TableReader& targets,
                      const table::TableReader& pool);

}  // namespace deft::mine
