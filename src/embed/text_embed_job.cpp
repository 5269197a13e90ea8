#include "embed/text_embed_job.h"

#include <chrono>
#include <optional>
#include <set>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/log.h"
#include "common/output_guard.h"
#include "common/progress.h"
#include "embed/work_folder.h"
#include "kernels/onednn_linear.h"
#include "model/checkpoint.h"
#include "model/fingerprint.h"
#include "model/text_encoder.h"
#include "table/embedding_table.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"
#include "text/clip_tokenizer.h"
#include "text/gemma_tokenizer.h"
#include "text/siglip_tokenizer.h"

namespace deft::embed {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTextColumn = "text";

// The checkpoint's tokenizer, as its family's transformers tokenizer encodes.
class Tokenizer {
 public:
  Tokenizer(const fs::path& folder, model::Family family, bool siglip2, size_t positions) {
    if (family == model::Family::kCLIP) {
      clip_.emplace(text::ClipTokenizer::load(folder, std::min<size_t>(77, positions)));
      return;
    }
    // SigLIP2 checkpoints ship Gemma's tokenizer.model, SigLIP ones T5's spiece.model.
    std::error_code ec;
    if (siglip2 ||
        (!fs::exists(folder / "spiece.model", ec) && fs::exists(folder / "tokenizer.model", ec))) {
      gemma_.emplace(text::GemmaTokenizer::load(folder, positions));
      return;
    }
    siglip_.emplace(text::SiglipTokenizer::load(folder, positions));
  }
  size_t length() const {
    return clip_ ? clip_->max_length() : gemma_ ? gemma_->max_length() : siglip_->max_length();
  }
  int32_t end_id() const {
    return clip_ ? clip_->end_id() : gemma_ ? gemma_->end_id() : siglip_->end_id();
  }
  // The ids, and whether the text was cut to fit.
  std::vector<int32_t> encode(std::string_view text, bool& truncated) const {
    return clip_    ? clip_->encode(text, &truncated)
           : gemma_ ? gemma_->encode(text, &truncated)
                    : siglip_->encode(text, &truncated);
  }
  std::string describe() const {
    if (clip_) {
      return fmt::format(
          "tokenizer CLIP BPE (CLIPTokenizerFast rules), {} tokens, padded with <|endoftext|>",
          length());
    }
    if (gemma_) {
      return fmt::format(
          "tokenizer Gemma SentencePiece (SigLIP2: lower-cased, <eos>), {} tokens, padded with "
          "<pad>",
          length());
    }
    return fmt::format(
        "tokenizer SigLIP SentencePiece (SiglipTokenizer rules), {} tokens, padded with </s>",
        length());
  }

 private:
  std::optional<text::ClipTokenizer> clip_;
  std::optional<text::SiglipTokenizer> siglip_;
  std::optional<text::GemmaTokenizer> gemma_;
};

std::string text_of(duckdb_vector vector, idx_t row, uint64_t input_row, const fs::path& input) {
  const uint64_t* validity = duckdb_vector_get_validity(vector);
  if (validity != nullptr && !duckdb_validity_row_is_valid(const_cast<uint64_t*>(validity), row)) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' row {}: text is NULL", input.string(), input_row),
                "give every row a text (an empty text is \"\" in a CSV)");
  }
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  duckdb_string_t& s = strings[row];
  const uint32_t length = duckdb_string_t_length(s);
  return std::string(duckdb_string_t_data(&s), length);
}

}  // namespace

TextEmbedReport run_text_embed_job(const TextEmbedJob& job) {
  const auto started = std::chrono::steady_clock::now();
  refuse_output_over_inputs(job.output, "output_parquet", {{"input_parquet", job.input}});
  kernels::set_compute_threads(job.threads);
  const model::Family family = model::parse_family(job.family);
  const bool siglip2 = job.family == "SigLIP2" || job.family == "siglip2";
  const model::ModelLocation where =
      model::resolve_model_path(job.model_path, model::HubEnvironment::from_process());
  model::EncoderOptions options;
  if (job.precision == "fp32") options.precision = model::Precision::kF32;
  if (job.precision == "bf16") options.precision = model::Precision::kBF16;
  const model::TextEncoder encoder = model::TextEncoder::load(where.folder, family, options);
  const Tokenizer tokenizer(where.folder, family, siglip2,
                            static_cast<size_t>(encoder.config().max_position_embeddings));

  model::EncoderFingerprint f;
  f.family = model::family_name(family);
  f.model_id = where.id;
  f.revision = where.revision;
  f.weights_digest = model::weights_digest(model::Checkpoint(where.folder));
  f.preprocessing = tokenizer.describe();
  f.architecture = encoder.config().describe();
  f.tower = "text";
  f.compute_dtype = std::string(encoder.kernel_name()) == "onednn-bf16" ? "bf16" : "fp32";
  f.embedding_dim = encoder.out_dim();
  f.deft_version = DEFT_VERSION;

  table::Database db;
  table::TableReader reader(db, job.input,
                            {.filepath_column = kTextColumn, .quoted_empty_is_text = true});
  const size_t text_column = *reader.find_column(kTextColumn);
  const uint64_t total = reader.count_rows();  // its own connection: the stream stays open
  const auto dim = static_cast<size_t>(encoder.out_dim());
  TextEmbedReport report;
  report.encoder = model::describe(f);

  // Resumable, as `deft embed` is: every chunk_rows rows become a part file in the work folder
  // beside the output; a run started again under the same manifest keeps the finished parts.
  const uint64_t chunk_rows = std::max<uint64_t>(1, job.chunk_rows);
  const uint64_t chunks = (total + chunk_rows - 1) / chunk_rows;
  const fs::path work = work_folder_for(job.output);
  const nlohmann::ordered_json manifest = {{"manifest", "text-1"},
                                           {"input", source_identity(fs::absolute(job.input))},
                                           {"rows", total},
                                           {"chunk_rows", chunk_rows},
                                           {"encoder", nlohmann::json::parse(f.to_json())}};
  const std::set<uint64_t> done = prepare_work_folder(work, manifest.dump(2), chunks, chunk_rows);
  report.resumed_chunks = done.size();

  Progress progress(total, "embedding texts");
  const size_t batch = static_cast<size_t>(std::max(1, job.batch_size));
  const size_t length = tokenizer.length();
  std::optional<table::EmbeddingTableWriter> part;  // the current chunk's, when it is embedded
  uint64_t input_row = 0;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t rows = duckdb_data_chunk_get_size(chunk.get());
    duckdb_vector texts = duckdb_data_chunk_get_vector(chunk.get(), text_column);
    // The chunk's rows in stretches that end at part boundaries.
    for (idx_t begin = 0; begin < rows;) {
      const uint64_t global = input_row + begin;
      const uint64_t c = global / chunk_rows;
      const idx_t end =
          static_cast<idx_t>(std::min<uint64_t>(rows, begin + (c + 1) * chunk_rows - global));
      if (done.count(c) > 0) {
        progress.advance(end - begin);
        begin = end;
        continue;
      }
      if (!part) part.emplace(db, reader, part_path(work, c), dim);
      std::vector<float> features;
      features.reserve((end - begin) * dim);
      for (idx_t first = begin; first < end; first += batch) {
        const idx_t n = std::min<idx_t>(batch, end - first);
        std::vector<int32_t> ids;
        ids.reserve(n * length);
        for (idx_t r = first; r < first + n; ++r) {
          bool truncated = false;
          const std::vector<int32_t> one =
              tokenizer.encode(text_of(texts, r, input_row + r, job.input), truncated);
          report.truncated += truncated ? 1 : 0;
          ids.insert(ids.end(), one.begin(), one.end());
        }
        const std::vector<float> out = encoder.encode(ids, n, length, tokenizer.end_id());
        features.insert(features.end(), out.begin(), out.end());
        progress.advance(n);
      }
      std::vector<idx_t> stretch(end - begin);
      for (idx_t r = begin; r < end; ++r)
        stretch[r - begin] = r;
      part->append(chunk, stretch, features);
      report.embedded += end - begin;
      if ((input_row + end) % chunk_rows == 0 || input_row + end == total) {
        part->commit();
        part.reset();
        fault::chunk_finished();
      }
      begin = end;
    }
    input_row += rows;
  }
  DEFT_ASSERT(!part, "the last part is committed with the last row");

  // The parts, in order, into the output with the fingerprint; then the folder goes.
  std::vector<fs::path> parts;
  for (uint64_t c = 0; c < chunks; ++c)
    parts.push_back(part_path(work, c));
  const table::WriterOptions written{.kv_metadata = {{model::kFingerprintKey, f.to_json()}},
                                     .row_group_rows = table::embedding_row_group_rows(dim)};
  if (parts.empty()) {
    table::EmbeddingTableWriter(db, reader, job.output, dim, written).commit();
  } else {
    table::concatenate_parquet(db, parts, job.output, written, kTextColumn);
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  report.rows = input_row;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace deft::embed
