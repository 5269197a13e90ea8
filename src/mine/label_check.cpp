#include "mine/label_check.h"

#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/log.h"
#include "mine/labels.h"
#include "table/table_reader.h"

namespace deft::mine {
namespace {

// Each label key of the table and how many rows have it; nullopt when there is no `label`.
std::optional<std::map<std::string, uint64_t>> label_keys(table::Database& db,
                                                          const std::filesystem::path& path,
                                                          LabelCompare compare,
                                                          std::optional<LabelKind>& kind) {
  table::TableReader reader(
      db, path, {.columns = {table::kFilepathColumn}, .optional_columns = {table::kLabelColumn}});
  const auto column = reader.label_column();
  if (!column) return std::nullopt;
  kind = label_kind(reader, *column);
  std::map<std::string, uint64_t> keys;
  while (table::DataChunk chunk = reader.next_chunk()) {
    duckdb_vector labels = duckdb_data_chunk_get_vector(chunk.get(), *column);
    for (idx_t i = 0; i < duckdb_data_chunk_get_size(chunk.get()); ++i) {
      if (const auto key = label_key(label_at(labels, reader.column_type(*column), i), compare)) {
        ++keys[*key];
      }
    }
  }
  return keys;
}

}  // namespace

std::vector<std::string> check_labels_before_embedding(const std::filesystem::path& targets,
                                                       const std::filesystem::path& pool,
                                                       const MineJob& job) {
  if (!job.filter_by_label) return {};
  table::Database db;
  std::optional<LabelKind> target_kind;
  std::optional<LabelKind> pool_kind;
  const auto target_keys = label_keys(db, targets, job.label_compare, target_kind);
  const auto pool_keys = label_keys(db, pool, job.label_compare, pool_kind);
  std::vector<std::string> problems;
  std::vector<std::string> missing;
  if (!target_keys) missing.push_back(fmt::format("'{}'", targets.string()));
  if (!pool_keys) missing.push_back(fmt::format("'{}'", pool.string()));
  if (!missing.empty()) {
    problems.push_back(
        fmt::format("filter_by_label=true but {} {} no 'label' column: the filter "
                    "will not apply",
                    fmt::join(missing, " and "), missing.size() > 1 ? "have" : "has"));
  } else if (job.label_compare == LabelCompare::kTyped && target_kind != pool_kind) {
    throw Error(ErrorKind::kInput,
                fmt::format("labels of '{}' are {} but those of '{}' are {}: under "
                            "label_compare=typed they would never be equal",
                            targets.string(), label_kind_name(*target_kind), pool.string(),
                            label_kind_name(*pool_kind)),
                "use label_compare=reference (the reference's text comparison)");
  } else {
    std::vector<std::string> absent;
    uint64_t rows = 0;
    for (const auto& [key, count] : *target_keys) {
      if (pool_keys->count(key) != 0) continue;
      absent.push_back("'" + key + "'");
      rows += count;
    }
    if (!absent.empty()) {
      problems.push_back(fmt::format(
          "filter_by_label=true but no pool row of '{}' has the label{} {} of {} target{}: those "
          "targets can mine nothing",
          pool.string(), absent.size() > 1 ? "s" : "", fmt::join(absent, ", "), rows,
          rows > 1 ? "s" : ""));
    }
  }
  if (!problems.empty() && job.strict) {
    throw Error(ErrorKind::kInput, fmt::format("{}", fmt::join(problems, "; ")),
                "found before embedding anything; strict=false mines anyway, with a warning");
  }
  for (const std::string& p : problems)
    log::warn("{} (found before embedding; strict=true makes this an error)", p);
  return problems;
}

}  // namespace deft::mine
