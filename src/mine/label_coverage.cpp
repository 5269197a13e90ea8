#include "mine/label_coverage.h"

#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/log.h"
#include "table/table_reader.h"

namespace deft::mine {

namespace {

// Each label key of the table and how many rows have it; nullopt when there is no `label`.
std::optional<std::map<std::string, uint64_t>> label_counts(table::Database& db,
                                                            const std::filesystem::path& path,
                                                            const std::string& key_column,
                                                            LabelCompare compare) {
  table::TableReader reader(db, path,
                            {.columns = {key_column},
                             .optional_columns = {table::kLabelColumn},
                             .filepath_column = key_column});
  const auto column = reader.label_column();
  // A label of another type (DOUBLE, a list) is carried, not compared: coverage does not apply.
  if (!column || !usable_label_kind(reader, *column)) return std::nullopt;
  std::map<std::string, uint64_t> keys;
  while (table::DataChunk chunk = reader.next_chunk()) {
    duckdb_vector labels = duckdb_data_chunk_get_vector(chunk.get(), *column);
    for (idx_t i = 0; i < duckdb_data_chunk_get_size(chunk.get()); ++i) {
      if (const auto key = label_key(label_at(labels, reader.column_type(*column), i), compare))
        ++keys[*key];
    }
  }
  return keys;
}

}  // namespace

Coverage label_coverage(table::Database& db, const CoverageInputs& in) {
  Coverage c;
  c.targets = in.targets;
  c.pool = in.pool;
  c.topn = in.topn;
  const auto targets = label_counts(db, in.targets, in.target_key, in.compare);
  const auto pool = label_counts(db, in.pool, in.pool_key, in.compare);
  if (!targets || !pool) return c;
  c.checked = true;
  for (const auto& [label, count] : *targets) {
    LabelCount l{label, count, 0, 0};
    if (const auto it = pool->find(label); it != pool->end()) l.pool_rows = it->second;
    l.scarcity = static_cast<double>(l.pool_rows) / static_cast<double>(in.topn * count);
    if (l.pool_rows == 0) {
      c.absent.push_back(label);
    } else if (l.pool_rows < in.topn * count) {
      c.scarce.push_back(label);
    }
    c.labels.push_back(l);
  }
  return c;
}

std::string Coverage::words() const {
  if (!checked) return "not checked (a table has no label column)";
  std::vector<std::string> parts;
  for (const LabelCount& l : labels) {
    parts.push_back(fmt::format("{} {} target{} / {} pool rows ({:.2f})", l.label, l.targets,
                                l.targets == 1 ? "" : "s", l.pool_rows, l.scarcity));
  }
  return parts.empty() ? "no target labels" : fmt::format("{}", fmt::join(parts, "; "));
}

std::vector<std::string> report_coverage(const Coverage& c, bool strict) {
  std::vector<std::string> warnings;
  if (!c.checked) return warnings;
  const auto quoted = [](const std::vector<std::string>& labels) {
    std::vector<std::string> q;
    for (const std::string& l : labels)
      q.push_back("'" + l + "'");
    return fmt::format("{}", fmt::join(q, ", "));
  };
  if (!c.absent.empty()) {
    uint64_t targets = 0;
    for (const LabelCount& l : c.labels)
      targets += l.pool_rows == 0 ? l.targets : 0;
    const std::string what = fmt::format(
        "coverage: no pool row of '{}' has the target label{} {} ({} target{}): the pool lacks "
        "{} of the {} target labels",
        c.pool.string(), c.absent.size() > 1 ? "s" : "", quoted(c.absent), targets,
        targets == 1 ? "" : "s", c.absent.size(), c.labels.size());
    if (strict) {
      throw Error(ErrorKind::kInput, what,
                  "found before any image was decoded; add pool images of those labels, or "
                  "strict=false to go on with a warning");
    }
    warnings.push_back(what);
  }
  if (!c.scarce.empty()) {
    warnings.push_back(fmt::format(
        "coverage: the pool is scarce for the label{} {}: fewer pool rows than topn ({}) × the "
        "label's targets (the rare classes a class-stratified selection can take)",
        c.scarce.size() > 1 ? "s" : "", quoted(c.scarce), c.topn));
  }
  for (const std::string& w : warnings)
    log::warn("{}", w);
  if (c.checked) log::info("coverage per label (targets / pool rows (scarcity)): {}", c.words());
  return warnings;
}

}  // namespace deft::mine
