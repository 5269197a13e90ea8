// embed, mine and run: config and input checks; the stages themselves are not built yet.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/pending_stages.h"
#include "common/log.h"
#include "embed/embed_job.h"
#include "table/table_reader.h"

namespace deft::cli {

void stage_not_built(std::string_view command, std::string_view stage, std::string_view checked) {
  throw Error(ErrorKind::kRun,
              fmt::format("`deft {}` cannot run yet: the {} is not built in this version ({})",
                          command, stage, checked),
              "`--cfg=job` shows the resolved config; the README lists what this version does");
}

namespace {

std::string table_summary(table::TableReader& reader) {
  return fmt::format("'{}': {} rows{}", reader.path().string(), reader.count_rows(),
                     reader.label_column() ? ", labelled" : "");
}

}  // namespace

embed::EmbedJob embed_job_from(const Config& config) {
  embed::EmbedJob job;
  job.input = config.get_string("input_parquet");
  job.output = config.get_string("output_parquet");
  job.image_root = config.get_string("image_root");
  job.embedder.family = config.get_string("model");
  job.embedder.model_path = config.get_string("model_path");
  job.embedder.precision = config.get_string("precision");
  job.batch_size = static_cast<int>(config.get_int("batch_size"));
  job.threads = static_cast<int>(config.get_int("threads"));
  job.strict = config.get_bool("strict");
  job.overwrite = config.get_bool("overwrite");
  job.reuse = config.get_bool("reuse");
  job.reuse_from = config.get_string("reuse_from");
  job.reuse_by_content = config.get_string("reuse_key") == "content";
  job.shrink_on_load = config.get_bool("shrink_on_load");
  job.decode.apply_exif_orientation = config.get_string("exif_orientation") == "apply";
  job.decode.max_pixels = static_cast<uint64_t>(config.get_int("max_image_pixels"));
  job.decode.timeout_seconds = config.get_float("decode_timeout");
  job.chunk_rows = static_cast<uint64_t>(config.get_int("chunk_rows"));
  return job;
}

int run_embed(const Config& config, Context&) {
  const embed::EmbedJob job = embed_job_from(config);
  const embed::EmbedReport r = embed::run_embed_job(job);
  const uint64_t worked = r.embedded + r.failed;
  log::info(
      "embedded '{}': {} rows in, {} embedded, {} reused, {} failed{}; {:.1f} s, {:.1f} "
      "images/s",
      job.output.string(), r.rows_in, r.embedded, r.reused, r.failed,
      r.failed > 0 ? fmt::format(" (listed in '{}')", r.failed_path.string()) : "", r.seconds,
      r.seconds > 0 ? static_cast<double>(worked) / r.seconds : 0.0);
  return kExitOk;
}

int run_mine(const Config& config, Context&) {
  table::Database db;
  table::TableReader source(
      db, config.get_string("source_parquet"),
      {.columns = {table::kFilepathColumn, config.get_string("source_embed_column_name")}});
  table::TableReader target(
      db, config.get_string("target_parquet"),
      {.columns = {table::kFilepathColumn, config.get_string("target_embed_column_name")}});
  stage_not_built("mine", "mining stage",
                  "inputs checked: " + table_summary(source) + "; " + table_summary(target));
}

int run_workflow(const Config& config, Context&) {
  table::Database db;
  table::TableReader targets(db, config.get_string("target_parquet"));
  table::TableReader pool(db, config.get_string("source_parquet"));
  stage_not_built("run", "encoder stage",
                  "inputs checked: " + table_summary(targets) + "; " + table_summary(pool));
}

}  // namespace deft::cli
