#include "cli/option_table.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "model/families.h"

namespace deft::cli {

OptionTable::OptionTable(std::string name, std::vector<OptionSpec> options, bool mark_extensions)
    : name_(std::move(name)), options_(std::move(options)), mark_extensions_(mark_extensions) {
  for (size_t i = 0; i < options_.size(); ++i) {
    for (size_t j = i + 1; j < options_.size(); ++j) {
      DEFT_ASSERT(options_[i].key != options_[j].key, "duplicate option " + options_[i].key);
    }
  }
}

const OptionSpec* OptionTable::find(std::string_view key) const {
  const auto it = std::find_if(options_.begin(), options_.end(),
                               [&](const OptionSpec& o) { return o.key == key; });
  return it == options_.end() ? nullptr : &*it;
}

const OptionSpec* OptionTable::resolve(std::string_view key) const {
  if (const OptionSpec* exact = find(key)) return exact;
  const OptionSpec* match = nullptr;
  for (const OptionSpec& o : options_) {
    const size_t dot = o.key.rfind('.');
    if (dot != std::string::npos && std::string_view(o.key).substr(dot + 1) == key) {
      if (match != nullptr) return nullptr;  // ambiguous: the dotted key must be used
      match = &o;
    }
  }
  return match;
}

std::string OptionTable::closest_key(std::string_view key) const {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const OptionSpec& o : options_) {
    // Compare against the whole key and its last segment ("topn" vs "mining.topn").
    const std::string_view leaf = std::string_view(o.key).substr(o.key.rfind('.') + 1);
    const size_t d = std::min(edit_distance(key, o.key), edit_distance(key, leaf));
    if (d < best_distance) {
      best_distance = d;
      best = o.key;
    }
  }
  // Close means: at most a third of the key wrong (typos, singular/plural, _ vs -).
  const size_t allowed = std::max<size_t>(2, key.size() / 3);
  return best_distance <= allowed ? best : std::string();
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* type_name(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kPath:
      return "path";
    case ValueType::kInt:
      return "integer";
    case ValueType::kFloat:
      return "number";
    case ValueType::kBool:
      return "boolean";
    case ValueType::kBoolString:
      return "boolean (\"true\"/\"false\")";
    case ValueType::kChoice:
      return "choice";
  }
  return "value";
}

namespace {

// The encoder families of the registry (model/families.h), and the weights-free thumbnail.
std::vector<std::string> model_choices() {
  std::vector<std::string> choices = model::family_names();
  choices.emplace_back("thumbnail");
  return choices;
}

OptionSpec deft_only(OptionSpec spec) {
  spec.extension = true;
  return spec;
}

OptionSpec at_least(OptionSpec spec, double min) {
  spec.min = min;
  spec.has_min = true;
  return spec;
}

OptionSpec between(OptionSpec spec, double min, double max) {
  spec = at_least(std::move(spec), min);
  spec.max = max;
  spec.has_max = true;
  return spec;
}

// The encoder's compute, for images and texts alike.
OptionSpec precision_option() {
  return deft_only(
      {"precision",
       ValueType::kChoice,
       "auto",
       "encoder compute; auto: bf16 where it is the faster dtype (AMX, or AVX512_BF16 on AMD), "
       "else fp32",
       {"auto", "fp32", "bf16"}});
}

std::vector<OptionSpec> embedding_specs() {
  return {
      {"input_parquet", ValueType::kPath, std::string(kMissing),
       "table of images to embed: parquet or CSV with a `filepath` column; every other column "
       "is carried into the output"},
      {"output_parquet", ValueType::kPath, std::string(kMissing),
       "embedding parquet to write: the input columns plus `embedding` (FLOAT[])"},
      {"model", ValueType::kChoice, "SigLIP",
       "encoder family (SigLIP2: the fixed-resolution SigLIP2 checkpoints, which are SigLIP "
       "models)",
       model_choices()},
      {"model_path", ValueType::kString, "google/siglip-base-patch16-224",
       "checkpoint folder (config.json + model.safetensors or pytorch_model.bin), or a hub id such "
       "as org/name[@rev] "
       "found offline in the local Hugging Face cache; nothing is downloaded"},
      {"model_config_path", ValueType::kString, "",
       "model config for TAO .pth/.ckpt checkpoints only"},
      at_least({"batch_size", ValueType::kInt, "64", "images per forward pass"}, 1),
      deft_only({"image_root", ValueType::kPath, "null",
                 "folder that relative `filepath` values resolve against; unset: the input "
                 "table's own folder (absolute paths are used as they are)"}),
      deft_only(at_least({"threads", ValueType::kInt, "0",
                          "CPU threads for decoding and the encoder; 0: every core"},
                         0)),
      precision_option(),
      deft_only({"strict", ValueType::kBool, "false",
                 "exit non-zero when any image fails, instead of listing it in "
                 "<output>.failed.parquet and going on"}),
      deft_only({"overwrite", ValueType::kBool, "false",
                 "replace an existing output made by a different encoder"}),
      deft_only({"reuse", ValueType::kBool, "true",
                 "take unchanged rows from an earlier output of the same encoder instead of "
                 "embedding them again"}),
      deft_only({"reuse_from", ValueType::kPath, "null",
                 "embedding parquet to reuse rows from; unset: output_parquet, if it exists"}),
      deft_only({"reuse_key",
                 ValueType::kChoice,
                 "stat",
                 "when a file counts as unchanged: `stat` (same path, size and modification "
                 "time) or `content` (same bytes, by digest, wherever the file now is)",
                 {"stat", "content"}}),
      deft_only({"exif_orientation",
                 ValueType::kChoice,
                 "ignore",
                 "EXIF orientation: `ignore` (as the Hugging Face processors and the reference "
                 "do) or `apply` (rotate as a photo viewer would)",
                 {"ignore", "apply"}}),
      deft_only({"shrink_on_load", ValueType::kBool, "true",
                 "decode large JPEGs at 1/2, 1/4 or 1/8 scale while they stay at least twice "
                 "the model input (faster; see the README for its effect on embeddings)"}),
      deft_only(at_least({"max_image_pixels", ValueType::kInt, "178956970",
                          "images with more pixels fail without being decoded"},
                         1)),
      deft_only(at_least({"decode_timeout", ValueType::kFloat, "60",
                          "seconds one image may take to decode before it fails"},
                         0)),
      deft_only(at_least({"chunk_rows", ValueType::kInt, "4096",
                          "rows per resumable chunk: a killed run restarts from its last "
                          "finished chunk"},
                         1)),
      deft_only(between({"max_failure_rate", ValueType::kFloat, "0.5",
                         "exit 1 when more than this share of the rows fail (the output and "
                         "the failures sidecar are still written); 1 never fails for that"},
                        0, 1)),
  };
}

// The mining history's keys, shared by `deft mine`, `deft select` and (under mining.) `deft run`.
std::vector<OptionSpec> history_specs() {
  return {
      deft_only({"history", ValueType::kPath, "null",
                 "a mining-history folder (created if missing): each round's mined items are "
                 "recorded there (one parquet per round, a manifest with their sha256), items an "
                 "earlier round mined are left out of the search, and the summary forecasts the "
                 "rounds the pool can still feed"}),
      deft_only({"group_column", ValueType::kString, "",
                 "with history: the pool column that identifies an item across rounds; unset, "
                 "the first of source_group_id, atomic_sample_id, filepath the pool has"}),
      deft_only({"exclude_history", ValueType::kBool, "true",
                 "with history: leave out pool rows whose group an earlier round mined (false "
                 "only counts them)"}),
      deft_only({"history_repair", ValueType::kBool, "false",
                 "with history: rebuild the manifest from the round files when an artifact was "
                 "modified or is missing, saying what changed (otherwise that stops the round)"}),
      deft_only(between({"max_pool_fraction", ValueType::kFloat, "1.0",
                         "with history: the most the rounds together may mine, as a share of "
                         "the pool's rows; this round keeps its nearest ranks within it"},
                        1e-9, 1.0)),
  };
}

std::vector<OptionSpec> with_history(std::vector<OptionSpec> specs) {
  for (OptionSpec& s : history_specs())
    specs.push_back(std::move(s));
  return specs;
}

std::vector<OptionSpec> mining_specs(bool tao_form = false) {
  return with_history({
      {"source_parquet", ValueType::kPath, std::string(kMissing),
       "embedding parquet of the source pool (from `deft embed`)"},
      {"target_parquet", ValueType::kPath, std::string(kMissing),
       "embedding parquet of the targets (from `deft embed`, same encoder as the pool)"},
      {"output_parquet", ValueType::kPath, std::string(kMissing),
       "mined parquet to write; mining_summary.txt is written beside it"},
      at_least({"topn", ValueType::kInt, "5", "nearest pool images per target"}, 1),
      {"knn_metric",
       ValueType::kChoice,
       "cosine",
       "distance between embeddings (cosine = 1 − cos). The reference's schema default is "
       "euclidean; deft's is cosine, which the documented workflow's spec files set",
       {"cosine", "euclidean", "manhattan"}},
      {"filter_by_label", ValueType::kBoolString, "\"false\"",
       "keep only neighbours whose label equals the target's; accepts \"true\"/\"false\", "
       "true/false, 1/0"},
      {"distance_threshold", ValueType::kFloat, "-1.0",
       "drop pairs farther than this, in the metric's own units; negative disables"},
      {"source_embed_column_name", ValueType::kString, "embedding",
       "column holding the pool's vectors"},
      {"target_embed_column_name", ValueType::kString, "embedding",
       "column holding the targets' vectors"},
      deft_only({"label_mode",
                 ValueType::kChoice,
                 "after",
                 "with filter_by_label: `after` takes each target's top-n, then drops pairs "
                 "whose labels differ (the reference's way); `within` takes the top-n among the "
                 "pool rows that share the target's label",
                 {"after", "within"}}),
      deft_only({"label_compare",
                 ValueType::kChoice,
                 "reference",
                 "with filter_by_label: `reference` compares labels as the reference does "
                 "(str(label).strip().upper(), NULL as NONE: 3 equals \"3\", \"pass \" equals "
                 "\"PASS\"); `typed` compares the values (integers never equal text, NULL "
                 "equals nothing)",
                 {"reference", "typed"}}),
      deft_only({"provenance", ValueType::kBool, tao_form ? "false" : "true",
                 "mined parquet columns after filepath: target_filepath, distance, rank, "
                 "target_hits, label; false writes filepath only, as the reference (the "
                 "default of the TAO form `tmm nearest_neighbors`)"}),
      deft_only({"allow_encoder_mismatch", ValueType::kBool, "false",
                 "mine even when the two tables were embedded by different encoders"}),
      deft_only({"strict", ValueType::kBool, "false",
                 "a label filter that cannot apply (no label column) is an error, not a warning"}),
      deft_only({"index", ValueType::kString, "exact",
                 "`exact`, or a FAISS index factory string for approximate search (HNSW32, "
                 "IVF4096,Flat): it holds the pool in memory; the summary gives its recall "
                 "against exact search on 100 sampled targets"}),
      deft_only({"index_params", ValueType::kString, "",
                 "FAISS search parameters for the approximate index, e.g. nprobe=16 or "
                 "efSearch=128"}),
      deft_only(at_least({"memory_budget_mb", ValueType::kFloat, "1024",
                          "memory for pool vectors: the pool is read in blocks of half of it"},
                         0.01)),
      deft_only({"absolute_paths", ValueType::kBool, "false",
                 "write the mined list's filepath values as absolute paths (relative ones are "
                 "joined to the pool's path base); either way the mined parquet records that "
                 "base as deft.path_base, which `deft embed` resolves its relative paths "
                 "against"}),
      deft_only(at_least(
          {"threads", ValueType::kInt, "0", "CPU threads for reading and searching; 0: every core"},
          0)),
  });
}

// `deft select` / `tmm unique_neighbor_matching`: the reference's keys (tao-compat.md), then
// deft's own.
std::vector<OptionSpec> selection_specs() {
  return with_history({
      {"source_path", ValueType::kPath, std::string(kMissing),
       "the pool's embeddings: a .parquet file, or a folder whose *.parquet files are read in "
       "name order as one table (same columns in each)"},
      {"target_path", ValueType::kPath, std::string(kMissing),
       "the targets' embeddings: a .parquet file or a folder of them"},
      {"output_dir", ValueType::kPath, std::string(kMissing),
       "where final_unique_files.parquet, the per-pass parquets, summary.json and "
       "selection_provenance.parquet are written"},
      at_least({"desired_unique_count", ValueType::kInt, std::string(kMissing),
                "how many unique pool files to select (the budget; never exceeded)"},
               1),
      {"allocation_policy",
       ValueType::kChoice,
       "global",
       "`global`: one budget over every target; `class_stratified`: the budget split over the "
       "rare classes and the rest by their share of the targets (needs rare_class_list, both "
       "detection files and detection_format)",
       {"global", "class_stratified"}},
      {"distance_metric",
       ValueType::kChoice,
       "euclidean",
       "distance between the L2-normalised embeddings (euclidean and cosine rank alike)",
       {"euclidean", "cosine", "manhattan"}},
      at_least({"candidate_expansion_factor", ValueType::kInt, "5",
                "pass p searches each target's factor × p × topn nearest pool rows"},
               1),
      {"source_embedding_column", ValueType::kString, "embedding",
       "column holding the pool's vectors"},
      {"target_embedding_column", ValueType::kString, "embedding",
       "column holding the targets' vectors"},
      {"source_filepath_column", ValueType::kString, "filepath",
       "column naming the pool's images (and the column of final_unique_files.parquet)"},
      {"target_filepath_column", ValueType::kString, "filepath",
       "column naming the targets' images"},
      {"exclude_path", ValueType::kPath, "null",
       "parquet with a `filepath` column of images never to select; a pool image is excluded "
       "when its path or its basename matches a listed path or basename"},
      {"source_detection_file", ValueType::kPath, "null",
       "the pool's detections: a COCO JSON file, or a folder of KITTI label .txt files"},
      {"target_detection_file", ValueType::kPath, "null", "the targets' detections, likewise"},
      {"detection_format",
       ValueType::kChoice,
       "null",
       "format of the detection files: coco or kitti (required when one is given)",
       {"coco", "kitti"}},
      {"rare_class_list", ValueType::kString, "",
       "comma-separated rare class names (compared case-insensitively); `auto` (deft's): the "
       "classes the pool is scarce for, from the detection files: fewer pool images with the "
       "class than topn × the targets with it (topn = ceil(desired_unique_count / targets))"},
      {"save_embeddings", ValueType::kBool, "false",
       "add the target's and each pick's embedding to the per-pass parquets"},
      {"visualize", ValueType::kBool, "false",
       "draw per-class count charts (and, class_stratified, per-class sheets) as PNG"},
      deft_only({"allow_encoder_mismatch", ValueType::kBool, "false",
                 "select even when the two tables were embedded by different encoders"}),
      deft_only(at_least({"memory_budget_mb", ValueType::kFloat, "1024",
                          "memory for pool vectors: a pool that fits is held in memory, a "
                          "larger one is read again in blocks of half of it for every pass"},
                         0.01)),
      deft_only(at_least(
          {"threads", ValueType::kInt, "0", "CPU threads for reading and searching; 0: every core"},
          0)),
      deft_only({"strict", ValueType::kBool, "false",
                 "a target label (the tables' `label` columns) that no pool row has is an error, "
                 "found before any search, instead of a warning"}),
  });
}

}  // namespace

bool owned_by_run(std::string_view key) {
  return key == "input_parquet" || key == "output_parquet" || key == "source_parquet" ||
         key == "target_parquet" || key == "source_path" || key == "target_path" ||
         key == "output_dir";
}

std::vector<OptionSpec> text_embedding_specs() {
  return {
      {"input_parquet", ValueType::kPath, std::string(kMissing),
       "table of texts to embed: parquet or CSV with a `text` column; every other column is "
       "carried into the output"},
      {"output_parquet", ValueType::kPath, std::string(kMissing),
       "embedding parquet to write: the input columns plus `embedding` (FLOAT[]), the text "
       "tower's features in the image features' space"},
      {"model",
       ValueType::kChoice,
       "SigLIP",
       "encoder family whose text tower embeds (SigLIP2: the SigLIP tower with Gemma's "
       "tokenizer, tokenizer.model)",
       {"CLIP", "SigLIP", "SigLIP2"}},
      {"model_path", ValueType::kString, "google/siglip-base-patch16-224",
       "checkpoint folder with the text tower's weights and tokenizer files (CLIP: vocab.json + "
       "merges.txt; SigLIP: spiece.model; SigLIP2: tokenizer.model), or a hub id found offline in "
       "the local Hugging Face "
       "cache; nothing is downloaded"},
      at_least({"batch_size", ValueType::kInt, "64", "texts per forward pass"}, 1),
      deft_only(at_least({"threads", ValueType::kInt, "0",
                          "CPU threads for the encoder; 0: every "
                          "core"},
                         0)),
      precision_option(),
      deft_only(at_least({"chunk_rows", ValueType::kInt, "4096",
                          "rows per resumable part: a killed run started again keeps its "
                          "finished parts"},
                         1)),
  };
}

const OptionTable& text_embedding_options() {
  static const OptionTable table("embed-text", text_embedding_specs());
  return table;
}

const OptionTable& tao_text_embedding_options() {
  static const OptionTable table("embedding text_embeddings", text_embedding_specs(), true);
  return table;
}

const OptionTable& embedding_options() {
  static const OptionTable table("embed", embedding_specs());
  return table;
}

const OptionTable& tao_embedding_options() {
  static const OptionTable table("embedding image_embeddings", embedding_specs(), true);
  return table;
}

const OptionTable& mining_options() {
  static const OptionTable table("mine", mining_specs());
  return table;
}

const OptionTable& tao_mining_options() {
  static const OptionTable table("tmm nearest_neighbors", mining_specs(true), true);
  return table;
}

const OptionTable& selection_options() {
  static const OptionTable table("select", selection_specs());
  return table;
}

const OptionTable& tao_selection_options() {
  static const OptionTable table("tmm unique_neighbor_matching", selection_specs(), true);
  return table;
}

namespace {

// `deft run`'s table for one mode: its own keys, then the embedding keys under `embedding.` and
// the mode's step keys under `mining.` (less the files between the steps, which run owns).
OptionTable run_table(std::string_view mode, const std::vector<OptionSpec>& step_specs) {
  std::vector<OptionSpec> specs = {
      {"target_parquet", ValueType::kPath, std::string(kMissing),
       "targets table (parquet or CSV with `filepath`, optional `label`)"},
      {"source_parquet", ValueType::kPath, std::string(kMissing),
       "source pool table (parquet or CSV with `filepath`, optional `label`)"},
      {"output_dir", ValueType::kPath, std::string(kMissing),
       "results go to <output_dir>/mining_results/YYYY-MM-DD_HHMMSS/"},
      deft_only({"target_text", ValueType::kPath, "null",
                 "texts as the targets, instead of target_parquet: a parquet or CSV with a "
                 "`text` column, embedded by the model's text tower (CLIP, SigLIP, SigLIP2; "
                 "`deft embed-text`) and mined against the pool's images"}),
      deft_only({"mode",
                 ValueType::kChoice,
                 std::string(mode),
                 "the mining step: `nearest_neighbors` (`deft mine`: each target's topn nearest "
                 "pool images) or `unique_neighbor_matching` (`deft select`: a budget of unique "
                 "pool images spread over the targets; mining.* then takes `deft select`'s keys, "
                 "see `deft select --help`). Unset, a -m spec decides: its `action` key, else "
                 "the keys it sets (desired_unique_count means unique_neighbor_matching)",
                 {std::string(kNearestNeighbors), std::string(kUniqueNeighborMatching)}}),
      deft_only({"run_dir", ValueType::kPath, "null",
                 "put the results in this folder instead of a dated one under output_dir"}),
      deft_only({"source_embeddings", ValueType::kPath, "null",
                 "an embedding parquet of the pool from an earlier run: its unchanged rows "
                 "are reused (it must come from the same encoder)"}),
      deft_only({"fresh", ValueType::kBool, "false",
                 "start a new dated folder even when the newest run of the same tables and "
                 "specs did not finish (by default it is continued)"}),
      deft_only(at_least({"threads", ValueType::kInt, "0",
                          "CPU threads for every step (embedding.threads and mining.threads "
                          "when they are 0); 0: every core"},
                         0)),
  };
  for (const auto& [prefix, section] :
       {std::pair{"embedding.", embedding_specs()}, std::pair{"mining.", step_specs}}) {
    for (OptionSpec spec : section) {
      if (owned_by_run(spec.key)) continue;
      spec.key = prefix + spec.key;
      specs.push_back(std::move(spec));
    }
  }
  return OptionTable("run", std::move(specs));
}

}  // namespace

const OptionTable& run_options() {
  static const OptionTable table = run_table(kNearestNeighbors, mining_specs());
  return table;
}

const OptionTable& run_selection_options() {
  static const OptionTable table = run_table(kUniqueNeighborMatching, selection_specs());
  return table;
}

const OptionTable& demo_options() {
  static const OptionTable table(
      "demo",
      {
          {"output_dir", ValueType::kPath, "deft-demo",
           "where the example data, specs and results are written"},
          at_least({"seed", ValueType::kInt, "7", "seed of the generated example"}, 0),
          at_least({"threads", ValueType::kInt, "0", "CPU threads for every step; 0: every core"},
                   0),
          {"model", ValueType::kString, "thumbnail",
           "encoder for the demo: the weights-free `thumbnail`, or SigLIP, SigLIP2, CLIP, DINOv2 "
           "with model_path (a folder or a Hugging Face id in the local cache)"},
          {"model_path", ValueType::kString, "",
           "checkpoint of that model (folder, or hub id found in the local cache)"},
      });
  return table;
}

}  // namespace deft::cli
