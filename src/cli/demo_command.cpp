// deft demo: a generated example, run through every stage this version has.
#include <map>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_table.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kTargets = 24;
constexpr int kPool = 240;

constexpr const char* kEmbeddingSpec =
    "# Embedding spec of the deft demo (the same keys as TAO's image_embeddings spec).\n"
    "model: thumbnail\n"
    "model_path: ''\n"
    "batch_size: 64\n";

constexpr const char* kMiningSpec =
    "# Mining spec of the deft demo (the same keys as TAO's nearest_neighbors spec).\n"
    "topn: 5\n"
    "knn_metric: cosine\n"
    "filter_by_label: \"true\"\n"
    "distance_threshold: -1.0\n";

// Targets (parquet, with extra columns to carry) and a pool (CSV, as teams often have it).
void write_example_tables(table::Database& db, const fs::path& data, int64_t seed) {
  const std::string labels = "['crack', 'rust', 'dent']";
  table::write_query(
      db,
      fmt::format(
          "SELECT 'images/targets/t_' || lpad(i::VARCHAR, 3, '0') || '.png' AS filepath, "
          "{labels}[1 + (i % 3)] AS label, "
          "round(0.2 + ((i * 37 + {seed}) % 50) / 100.0, 2) AS siamese_score, "
          "['low contrast', 'motion blur', 'occlusion'][1 + ((i + {seed}) % 3)] AS weakness "
          "FROM range({n}) t(i)",
          fmt::arg("labels", labels), fmt::arg("seed", seed), fmt::arg("n", kTargets)),
      data / "targets.parquet", table::FileFormat::kParquet);
  table::write_query(
      db,
      fmt::format("SELECT 'images/pool/p_' || lpad(i::VARCHAR, 4, '0') || '.png' AS filepath, "
                  "{labels}[1 + ((i * 7 + {seed}) % 3)] AS label FROM range({n}) t(i)",
                  fmt::arg("labels", labels), fmt::arg("seed", seed), fmt::arg("n", kPool)),
      data / "pool.csv", table::FileFormat::kCsv);
}

// Rows per label, read back through deft's table reader.
std::map<std::string, int> label_counts(table::Database& db, const fs::path& path) {
  table::TableReader reader(db, path, {.columns = {table::kFilepathColumn, table::kLabelColumn}});
  std::map<std::string, int> counts;
  while (table::DataChunk chunk = reader.next_chunk()) {
    duckdb_vector labels = duckdb_data_chunk_get_vector(chunk.get(), 1);
    for (idx_t r = 0; r < duckdb_data_chunk_get_size(chunk.get()); ++r) {
      ++counts[table::is_valid(labels, r) ? std::string(table::string_at(labels, r)) : "(none)"];
    }
  }
  return counts;
}

std::string counts_text(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [label, n] : counts)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, label);
  return out;
}

}  // namespace

int run_demo(const Config& config, Context& context) {
  const fs::path dir = config.get_string("output_dir");
  const fs::path data = dir / "data";
  log::info("deft demo: writing an example to {}", dir.string());

  table::Database db;
  write_example_tables(db, data, config.get_int("seed"));
  write_file_atomically(dir / "embedding_spec.yaml", kEmbeddingSpec);
  write_file_atomically(dir / "mining_spec.yaml", kMiningSpec);

  // The config `deft run` resolves on this example, from the very arguments a user would type.
  const std::vector<std::string> run_args = {
      "run",
      "-e",
      (dir / "embedding_spec.yaml").string(),
      "-m",
      (dir / "mining_spec.yaml").string(),
      "target_parquet=" + (data / "targets.parquet").string(),
      "source_parquet=" + (data / "pool.csv").string(),
      "output_dir=" + dir.string()};
  const Config run = resolve_command_line(run_args);
  run.require_complete();
  write_file_atomically(dir / "run_config.yaml", run.to_yaml());

  const auto targets = label_counts(db, data / "targets.parquet");
  const auto pool = label_counts(db, data / "pool.csv");
  context.out << fmt::format(
      "targets  {} ({})\n"
      "pool     {} ({})\n"
      "specs    {}, {} (resolved: {})\n"
      "checked  both tables read (filepath and label found), both specs resolve\n"
      "not yet  image generation, encoders, mining and the report are not built in this "
      "version; this command will run the whole workflow once they are\n",
      (data / "targets.parquet").string(), counts_text(targets), (data / "pool.csv").string(),
      counts_text(pool), (dir / "embedding_spec.yaml").string(),
      (dir / "mining_spec.yaml").string(), (dir / "run_config.yaml").string());
  return kExitOk;
}

}  // namespace deft::cli
