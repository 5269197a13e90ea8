#pragma once
// `deft embed`: a table of image paths → the embedding parquet, in bounded memory.
//
//   embed::EmbedJob job{.input = "pool.csv", .output = "pool_emb.parquet", ...};
//   embed::EmbedReport report = embed::run_embed_job(job);
//
// Decode workers read, decode and preprocess images into a bounded window; the encoder takes
// them in input order in batches; every `chunk_rows` input rows become one part file in a
// hidden work folder beside the output (`.<output name>.deft-partial/`). A killed run started
// again with the same command keeps its finished parts; the output is the parts concatenated,
// written atomically, after which the work folder is removed. Images that cannot be used go to
// `<output>.failed.parquet` (filepath, reason, input_row) and are left out of the output.

#include <cstdint>
#include <filesystem>
#include <string>

#include "embed/embedder.h"
#include "image/decode.h"

namespace deft::embed {

struct EmbedJob {
  std::filesystem::path input;
  std::filesystem::path output;
  std::filesystem::path image_root;  // empty: the input table's folder
  EmbedderOptions embedder;
  int batch_size = 64;
  int threads = 0;  // 0: every core
  bool strict = false;
  bool overwrite = false;
  bool reuse = true;
  std::filesystem::path reuse_from;  // empty: the output, if it exists
  bool reuse_by_content = false;
  bool shrink_on_load = true;
  image::DecodeOptions decode;  // target size is filled in from the encoder
  uint64_t chunk_rows = 4096;
  // More failed rows than this share of the input: the run fails (exit 1) after writing the
  // output and the failures sidecar. 1 never fails for that.
  double max_failure_rate = 0.5;
};

struct EmbedReport {
  uint64_t rows_in = 0;
  uint64_t embedded = 0;
  uint64_t reused = 0;
  uint64_t failed = 0;
  uint64_t same_file_rows = 0;  // rows that copied an earlier row's result (the same file)
  uint64_t resumed_chunks = 0;
  double seconds = 0;
  std::filesystem::path failed_path;  // empty when nothing failed
  std::string encoder;                // e.g. "SigLIP google/siglip-base-patch16-224 (bf16)"
};

EmbedReport run_embed_job(const EmbedJob& job);

// Where the failed rows of `output` go.
std::filesystem::path failed_path_for(const std::filesystem::path& output);

}  // namespace deft::embed
