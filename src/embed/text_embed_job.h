#pragma once
// `deft embed-text` (`embedding text_embeddings`): a table with a `text` column → the text
// tower's features, in the image features' space, as an embedding parquet: every input column
// carried, `embedding FLOAT[]` added, and a fingerprint (deft.encoder, tower "text") naming the
// checkpoint, its text tower and tokenizer.
//
//   embed::TextEmbedReport r = embed::run_text_embed_job({.input = "prompts.csv",
//                                                         .output = "prompts_emb.parquet",
//                                                         .family = "CLIP",
//                                                         .model_path =
//                                                         "openai/clip-vit-base-patch32"});
//
// Resumable as `deft embed` is: every chunk_rows rows are a part in `.<output>.deft-partial/`;
// a killed run started again with the same command keeps its finished parts.
//
// A NULL text is an error naming its row (an empty text is a text: a quoted "" in a CSV stays
// empty). Token length: CLIP 77, SigLIP the text tower's positions (64); longer texts are
// truncated, as the reference's tokenizer call does.

#include <cstdint>
#include <filesystem>
#include <string>

namespace deft::embed {

struct TextEmbedJob {
  std::filesystem::path input;
  std::filesystem::path output;
  std::string family = "SigLIP";  // CLIP | SigLIP | SigLIP2
  std::string model_path;
  std::string precision = "auto";  // auto | fp32 | bf16
  int batch_size = 64;
  int threads = 0;             // 0: every core
  uint64_t chunk_rows = 4096;  // rows per resumable part (as `deft embed`)
};

struct TextEmbedReport {
  uint64_t rows = 0;
  uint64_t embedded = 0;        // by this run (rows − those of parts an earlier run finished)
  uint64_t resumed_chunks = 0;  // parts kept from an earlier, killed run
  uint64_t truncated = 0;       // texts longer than the token length
  double seconds = 0;
  std::string encoder;  // e.g. "CLIP openai/clip-vit-base-patch32 text tower (512-dim, bf16)"
};

TextEmbedReport run_text_embed_job(const TextEmbedJob& job);

}  // namespace deft::embed
