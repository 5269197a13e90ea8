// embed and mine: their jobs from the resolved config, run, and summed up in one line.
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/log.h"
#include "common/text.h"
#include "embed/embed_job.h"
#include "embed/text_embed_job.h"
#include "index/metric.h"
#include "mine/input_checks.h"
#include "mine/mine_job.h"
#include "select/select_job.h"
#include "select/settings.h"
#include "table/duckdb_handles.h"

namespace deft::cli {

namespace fs = std::filesystem;

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
  job.max_failure_rate = config.get_float("max_failure_rate");
  return job;
}

int run_embed(const Config& config, Context&) {
  const embed::EmbedJob job = embed_job_from(config);
  const embed::EmbedReport r = embed::run_embed_job(job);
  const uint64_t worked = r.embedded + r.failed;
  log::info(
      "embedded '{}': {} rows in, {} embedded, {} reused, {}{} failed{}; {:.1f} s, {:.1f} "
      "images/s",
      job.output.string(), r.rows_in, r.embedded, r.reused,
      r.same_file_rows > 0
          ? fmt::format("{} copied from a row naming the same file, ", r.same_file_rows)
          : "",
      r.failed, r.failed > 0 ? fmt::format(" (listed in '{}')", r.failed_path.string()) : "",
      r.seconds, r.seconds > 0 ? static_cast<double>(worked) / r.seconds : 0.0);
  return kExitOk;
}

embed::TextEmbedJob text_embed_job_from(const Config& config) {
  return {.input = config.get_string("input_parquet"),
          .output = config.get_string("output_parquet"),
          .family = config.get_string("model"),
          .model_path = config.get_string("model_path"),
          .precision = config.get_string("precision"),
          .batch_size = static_cast<int>(config.get_int("batch_size")),
          .threads = static_cast<int>(config.get_int("threads")),
          .chunk_rows = static_cast<uint64_t>(config.get_int("chunk_rows"))};
}

int run_embed_text(const Config& config, Context&) {
  const embed::TextEmbedJob job = text_embed_job_from(config);
  const embed::TextEmbedReport r = embed::run_text_embed_job(job);
  log::info(
      "embedded '{}': {} texts ({} by this run{}) with {}{}; {:.1f} s", job.output.string(), r.rows,
      r.embedded, r.resumed_chunks > 0 ? fmt::format(", {} parts resumed", r.resumed_chunks) : "",
      r.encoder, r.truncated > 0 ? fmt::format(", {} cut to the token length", r.truncated) : "",
      r.seconds);
  return kExitOk;
}

history::HistorySettings history_settings_from(const Config& config, const std::string& command) {
  return {.folder = config.get_string("history"),
          .group_column = config.get_string("group_column"),
          .exclude = config.get_bool("exclude_history"),
          .repair = config.get_bool("history_repair"),
          .max_pool_fraction = config.get_float("max_pool_fraction"),
          .command = command};
}

mine::MineJob mine_job_from(const Config& config) {
  mine::MineJob job;
  job.source = config.get_string("source_parquet");
  job.target = config.get_string("target_parquet");
  job.output = config.get_string("output_parquet");
  job.topn = static_cast<size_t>(config.get_int("topn"));
  job.metric = index::parse_metric(config.get_string("knn_metric"));
  job.filter_by_label = config.get_bool("filter_by_label");
  job.label_mode = config.get_string("label_mode") == "within" ? mine::LabelMode::kWithin
                                                               : mine::LabelMode::kAfter;
  job.label_compare = config.get_string("label_compare") == "typed"
                          ? mine::LabelCompare::kTyped
                          : mine::LabelCompare::kReference;
  job.distance_threshold = config.get_float("distance_threshold");
  job.source_column = config.get_string("source_embed_column_name");
  job.target_column = config.get_string("target_embed_column_name");
  job.provenance = config.get_bool("provenance");
  job.allow_encoder_mismatch = config.get_bool("allow_encoder_mismatch");
  job.strict = config.get_bool("strict");
  job.memory_budget_mb = config.get_float("memory_budget_mb");
  job.index = config.get_string("index");
  job.index_params = config.get_string("index_params");
  job.absolute_paths = config.get_bool("absolute_paths");
  job.threads = static_cast<int>(config.get_int("threads"));
  job.spec = config.to_yaml();
  job.history = history_settings_from(config, "mine");
  return job;
}

int run_mine(const Config& config, Context&) {
  const mine::MineJob job = mine_job_from(config);
  const mine::MineReport r = mine::run_mine_job(job);
  log::info(
      "mined '{}': {} targets, pool of {}, {} pairs ({} dropped by label, {} by threshold), "
      "{} duplicates removed, {} unique images; summary in '{}'; {:.1f} s",
      job.output.string(), r.queries, r.pool_size, r.neighbours, r.dropped_by_label,
      r.dropped_by_threshold, r.duplicates_removed, r.unique_mined, r.summary_path.string(),
      r.seconds);
  return kExitOk;
}

select::SelectJob select_job_from(const Config& config) {
  select::SelectJob job;
  job.source = config.get_string("source_path");
  job.target = config.get_string("target_path");
  job.output_dir = config.get_string("output_dir");
  job.desired = static_cast<size_t>(config.get_int("desired_unique_count"));
  job.allocation = config.get_string("allocation_policy") == "class_stratified"
                       ? select::Allocation::kClassStratified
                       : select::Allocation::kGlobal;
  job.metric = index::parse_metric(config.get_string("distance_metric"));
  job.expansion = static_cast<size_t>(config.get_int("candidate_expansion_factor"));
  job.source_column = config.get_string("source_embedding_column");
  job.target_column = config.get_string("target_embedding_column");
  job.source_filepath_column = config.get_string("source_filepath_column");
  job.target_filepath_column = config.get_string("target_filepath_column");
  // A table of text embeddings (embed-text: its fingerprint names the text tower) is keyed by
  // its `text` column, as `deft mine` reads it: the default column follows.
  std::error_code ec;
  if (job.target_filepath_column == "filepath" && fs::is_regular_file(job.target, ec)) {
    table::Database db;
    job.target_filepath_column = mine::key_column(db, job.target);
  }
  job.exclude_path = config.get_string("exclude_path");
  job.source_detections = config.get_string("source_detection_file");
  job.target_detections = config.get_string("target_detection_file");
  const std::string format = config.get_string("detection_format");
  job.detection_format = format == "coco"    ? select::DetectionFormat::kCoco
                         : format == "kitti" ? select::DetectionFormat::kKitti
                                             : select::DetectionFormat::kNone;
  const std::string rare = config.get_string("rare_class_list");
  job.rare_classes_auto = ascii_lower(rare) == "auto";
  // auto: a placeholder the settings check accepts; the run names the classes.
  job.rare_classes = select::parse_rare_classes(rare);
  job.save_embeddings = config.get_bool("save_embeddings");
  job.visualize = config.get_bool("visualize");
  job.allow_encoder_mismatch = config.get_bool("allow_encoder_mismatch");
  job.memory_budget_mb = config.get_float("memory_budget_mb");
  job.threads = static_cast<int>(config.get_int("threads"));
  job.strict = config.get_bool("strict");
  job.spec = config.to_yaml();
  job.history = history_settings_from(config, "select");
  return job;
}

int run_select(const Config& config, Context&) {
  const select::SelectJob job = select_job_from(config);
  const select::SelectReport r = select::run_select_job(job);
  size_t unsatisfied = 0;
  for (const select::SubsetSummary& s : r.subsets)
    unsatisfied += s.result.unsatisfied.size();
  log::info(
      "selected {} of {} unique files for {} targets ({} left unsatisfied) into '{}'; pool of "
      "{} rows, {} excluded; {:.1f} s",
      r.retrieved, job.desired, r.target_queries, unsatisfied, job.output_dir.string(), r.pool_rows,
      r.excluded_rows, r.seconds);
  return kExitOk;
}

}  // namespace deft::cli
