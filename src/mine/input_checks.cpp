#include "mine/input_checks.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/finite.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "mine/labels.h"
#include "model/fingerprint.h"
#include "table/embedding_table.h"
#include "table/parquet_writer.h"
#include "table/recorded_encoder.h"
#include "table/table_reader.h"

namespace deft::mine {

namespace fs = std::filesystem;

// A user pointing output_parquet at an embedding table by mistake is stopped here.
void guard_outputs(table::Database& db, const MineJob& job) {
  const std::vector<std::pair<std::string, fs::path>> inputs = {{"source_parquet", job.source},
                                                                {"target_parquet", job.target}};
  refuse_output_over_inputs(job.output, "output_parquet", inputs);
  refuse_output_over_inputs(pairs_path_for(job.output), "the pairs file", inputs);
  refuse_output_over_inputs(summary_path_for(job.output), "mining_summary.txt", inputs);
  std::error_code ec;
  if (!fs::is_regular_file(job.output, ec)) return;
  bool embeddings = false;
  try {
    table::TableReader existing(db, job.output);
    embeddings = existing.find_column(table::kEmbeddingColumn).has_value() ||
                 model::fingerprint_in(table::read_kv_metadata(db, job.output), job.output.string())
                     .has_value();
  } catch (const Error&) {  // not a table deft can read: an earlier output of something else
  }
  if (embeddings) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output_parquet '{}' is an embedding parquet: mining would replace "
                            "it with the mined list",
                            job.output.string()),
                "give output_parquet a new name (mined.parquet, say)");
  }
}

// Compares the two files' encoders; returns what was found, in words.
EncoderCheckResult check_encoders(table::Database& db, const fs::path& targets,
                                  const fs::path& pool, bool allow_mismatch) {
  const auto t = table::recorded_encoder(db, targets);
  const auto p = table::recorded_encoder(db, pool);
  if (!t || !p) {
    const std::string which =
        !t && !p ? std::string("either file") : fmt::format("'{}'", (!t ? targets : pool).string());
    const std::string text = fmt::format(
        "not checked: no encoder fingerprint (deft.encoder) in {}; the vectors are compared as "
        "they are",
        which);
    log::warn(
        "{}. Embed both tables with `deft embed` so that mining can check they come from "
        "the same encoder",
        text);
    return {EncoderCheck::kNotChecked, text};
  }
  if (model::same_encoder(*t, *p)) {
    const std::string decoding = model::tolerated_differences(*t, *p);
    if (t->compute_dtype != p->compute_dtype) {
      // Accepted (bf16 stays within cosine 0.999 of fp32), but said: each side's precision.
      log::warn("targets and pool were computed in different precisions (targets {}, pool {})",
                t->compute_dtype, p->compute_dtype);
      return {EncoderCheck::kSame,
              fmt::format("same encoder: {}; mixed precision: targets {}, pool {}{}",
                          model::describe(*t), t->compute_dtype, p->compute_dtype,
                          decoding.empty() ? "" : "; decoded differently: " + decoding)};
    }
    if (decoding.empty())
      return {EncoderCheck::kSame, fmt::format("same encoder: {}", model::describe(*t))};
    log::warn(
        "targets and pool were decoded differently ({}, targets vs pool): JPEGs shrunk on "
        "load differ from full decodes by less than the bf16 tolerance (cosine >= 0.999), "
        "so mining goes on; embed both the same way for identical vectors",
        decoding);
    return {EncoderCheck::kSame, fmt::format("same encoder: {}; decoded differently: {}",
                                             model::describe(*t), decoding)};
  }
  if (model::same_checkpoint_other_tower(*t, *p)) {
    return {EncoderCheck::kSame,
            fmt::format("same checkpoint, text and image towers: targets {}; pool {}",
                        model::describe(*t), model::describe(*p))};
  }
  const std::string text =
      fmt::format("targets: {}; pool: {}", model::describe(*t), model::describe(*p));
  if (!allow_mismatch) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' and '{}' were embedded by different encoders ({}): their "
                            "vectors are not comparable",
                            targets.string(), pool.string(), text),
                "embed both with the same model, or set allow_encoder_mismatch=true to mine "
                "anyway");
  }
  log::warn("mining across different encoders (allow_encoder_mismatch=true): {}", text);
  return {EncoderCheck::kMismatchAllowed,
          fmt::format("MISMATCH, allowed by allow_encoder_mismatch=true: {}", text)};
}

std::string key_column(table::Database& db, const fs::path& table) {
  const auto f = table::recorded_encoder(db, table);
  return f && f->tower == "text" ? "text" : table::kFilepathColumn;
}

void require_usable_vectors(const float* vectors, size_t rows, size_t dim, uint64_t first_row,
                            const fs::path& path, const std::string& column, index::Metric metric) {
  const bool cosine = metric == index::Metric::kCosine;
  const auto usable = [&](size_t r) {
    const float* v = vectors + r * dim;
    return all_finite(v, dim) &&
           (!cosine || !std::all_of(v, v + dim, [](float x) { return x == 0.f; }));
  };
  // Every block of the pool passes here: the rows are checked side by side on OpenMP's
  // threads, and only a block with a bad row is walked again to name them.
  size_t unusable = 0;
  const auto signed_rows = static_cast<std::ptrdiff_t>(rows);
#pragma omp parallel for schedule(static) reduction(+ : unusable) if (rows * dim > 65536)
  for (std::ptrdiff_t r = 0; r < signed_rows; ++r)
    unusable += usable(static_cast<size_t>(r)) ? 0 : 1;
  if (unusable == 0) return;
  const size_t count = unusable;
  std::vector<uint64_t> bad;
  bool zero = false;  // some unusable row is finite: all zero, for cosine
  for (size_t r = 0; r < rows; ++r) {
    if (usable(r)) continue;
    zero = zero || all_finite(vectors + r * dim, dim);
    if (bad.size() < 5) bad.push_back(first_row + r);
  }
  std::string rows_text;
  for (uint64_t r : bad)
    rows_text += (rows_text.empty() ? "" : ", ") + std::to_string(r);
  if (count > bad.size()) rows_text += fmt::format(" and {} more", count - bad.size());
  throw Error(ErrorKind::kInput,
              fmt::format("'{}': column '{}' has {} at row{} {} (rows counted from 0)",
                          path.string(), column,
                          zero ? "NaN, infinite or all-zero vectors (cosine needs a direction)"
                               : "NaN or infinite values",
                          count > 1 ? "s" : "", rows_text));
}

LabelPlan plan_labels(const MineJob& job, const table::TableReader& targets,
                      const table::TableReader& pool) {
  if (!job.filter_by_label) return {LabelFilterOutcome::kOff, "off"};
  std::vector<std::string> missing;
  for (const table::TableReader* r : {&targets, &pool}) {
    if (!r->label_column()) missing.push_back(fmt::format("'{}'", r->path().string()));
  }
  if (!missing.empty()) {
    const std::string why =
        fmt::format("filter_by_label=true but {} {} no 'label' column", fmt::join(missing, " and "),
                    missing.size() > 1 ? "have" : "has");
    if (job.strict) {
      throw Error(ErrorKind::kInput, why, "strict=true refuses to mine unfiltered");
    }
    log::warn("{}: mining WITHOUT the label filter (strict=true makes this an error)", why);
    return {LabelFilterOutcome::kNotApplied,
            fmt::format("REQUESTED BUT NOT APPLIED: {}", why.substr(why.find(" but ") + 5))};
  }
  const LabelKind t = label_kind(targets, *targets.label_column());
  const LabelKind p = label_kind(pool, *pool.label_column());
  if (t != p && job.label_compare == LabelCompare::kTyped) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("labels of '{}' are {} ({}) but those of '{}' are {} ({}): they would "
                    "never be equal",
                    targets.path().string(), label_kind_name(t),
                    targets.columns()[*targets.label_column()].sql_type, pool.path().string(),
                    label_kind_name(p), pool.columns()[*pool.label_column()].sql_type),
        "store both label columns as integers or both as text, or use label_compare=reference");
  }
  const char* compared = job.label_compare == LabelCompare::kTyped
                             ? "labels compared as typed values"
                             : "labels compared as the reference does: text, trimmed, "
                               "upper-cased, NULL as NONE";
  return {LabelFilterOutcome::kApplied,
          job.label_mode == LabelMode::kWithin
              ? fmt::format("on (within label: top-n among the pool rows of the target's "
                            "label; {})",
                            compared)
              : fmt::format("on (after top-n: pairs whose labels differ are dropped, as the "
                            "reference does; {})",
                            compared)};
}

}  // namespace deft::mine
