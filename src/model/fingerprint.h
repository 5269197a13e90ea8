#pragma once
// The encoder fingerprint: what an embedding parquet records (key-value metadata
// `deft.encoder`) so that mining can refuse to compare vectors from different encoders.
//
//   EncoderFingerprint f = make_fingerprint(location, checkpoint, config, "fp32", dim);
//   std::string json = f.to_json();             // stable: same encoder, same text
//   EncoderFingerprint back = EncoderFingerprint::from_json(json, "pool.parquet");
//
// Identity is the weights digest (XXH3-128 over every tensor's name, dtype, shape and bytes,
// in name order), so one checkpoint copied to two folders has one digest; model id, revision
// and folder are recorded for people, not for the comparison. Embeddings are stored as the
// model outputs them, not L2-normalised (`normalized: false`); cosine mining normalises.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/checkpoint.h"
#include "model/vision_config.h"

namespace deft::model {

// The parquet key-value metadata key that holds an embedding table's fingerprint (JSON).
inline constexpr const char* kFingerprintKey = "deft.encoder";

struct EncoderFingerprint {
  std::string family;          // SigLIP, CLIP, DINOv2, thumbnail
  std::string model_id;        // hub id or checkpoint folder
  std::string revision;        // commit hash for hub models, else ""
  std::string weights_digest;  // "xxh3-128:<32 hex>"
  std::string preprocessing;   // e.g. "resize 224x224 bicubic(pillow); rescale 1/255; mean ..."
  std::string architecture;    // VisionConfig::describe(); "" in fingerprints older than it
  // "text" for a text tower's features (`deft embed-text`: preprocessing names the tokenizer,
  // architecture the text tower); "" for images, as every fingerprint before text had.
  std::string tower;
  // How image files were decoded ("" / nullopt in fingerprints written before they were kept):
  std::string exif_orientation;        // "apply" or "ignore"
  std::optional<bool> shrink_on_load;  // JPEGs decoded at a reduced scale before the resize
  int input_height = 0;
  int input_width = 0;
  std::string compute_dtype;  // fp32 or bf16
  int embedding_dim = 0;
  bool normalized = false;
  std::string deft_version;

  std::string to_json() const;
  // Throws Error(kInput) naming `source` when the text is not a fingerprint.
  static EncoderFingerprint from_json(std::string_view json, std::string_view source);
};

// The fingerprint recorded in a parquet's key-value metadata (kFingerprintKey), nullopt when
// there is none. Throws Error(kInput) naming `source` when the value is not a fingerprint.
std::optional<EncoderFingerprint> fingerprint_in(const std::map<std::string, std::string>& metadata,
                                                 std::string_view source);

// Same weights, family, architecture, preprocessing, EXIF policy, input size, dimension and
// normalisation: vectors from the two can be compared. The compute dtype and shrink-on-load
// may differ: their effects stay below the bf16 tolerance (cos ≥ 0.999). Fields an older
// fingerprint lacks are not compared.
// The encoder's name in words: "<family> <model id>", or the family alone when the model id
// is the family's name (the built-in thumbnail encoder).
std::string encoder_name(const EncoderFingerprint& f);

// The fingerprint in words, for logs, errors and the summary:
// "<name> (<dim>-dim, <compute dtype>[, exif_orientation=…])".
std::string describe(const EncoderFingerprint& f);

bool same_encoder(const EncoderFingerprint& a, const EncoderFingerprint& b);
// One checkpoint's two towers: one side text (`deft embed-text`), the other images, with the
// same family, weights, dimension and normalisation — features in one space, comparable.
bool same_checkpoint_other_tower(const EncoderFingerprint& a, const EncoderFingerprint& b);
// same_encoder, the same compute dtype and the same shrink-on-load: the vectors are bit-for-bit
// reproducible.
bool same_embeddings(const EncoderFingerprint& a, const EncoderFingerprint& b);
// Differences between two same_encoder fingerprints in how image files were decoded, which
// change vectors below the bf16 tolerance, in words ("" when there are none): what mining warns
// about (a different compute dtype is expected and not listed).
std::string tolerated_differences(const EncoderFingerprint& a, const EncoderFingerprint& b);

// XXH3-128 of the checkpoint's tensors (name, dtype, shape, bytes) in name order.
std::string weights_digest(const Checkpoint& checkpoint);

// A text that fixes the preprocessing exactly (sizes, crop, mean, std, rescale, resample).
std::string describe_preprocessing(const preprocess::ProcessorConfig& processor);

EncoderFingerprint make_fingerprint(const ModelLocation& location, const Checkpoint& checkpoint,
                                    const ModelConfig& config, std::string compute_dtype,
                                    int embedding_dim);

}  // namespace deft::model
