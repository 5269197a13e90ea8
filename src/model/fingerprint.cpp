#include "model/fingerprint.h"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/error.h"
#include "common/json_values.h"

namespace deft::model {

std::string weights_digest(const Checkpoint& checkpoint) {
  Xxh3Digest digest;
  for (const std::string& name : checkpoint.names()) {  // sorted
    const Tensor& t = checkpoint.tensor(name);
    const std::string header = fmt::format("{}\n{}\n[{}]\n{}\n", name, dtype_name(t.dtype),
                                           fmt::join(t.shape, ","), t.data.size());
    digest.update(header.data(), header.size());
    digest.update(t.data.data(), t.data.size());
  }
  return "xxh3-128:" + digest.hex();
}

std::string describe_preprocessing(const preprocess::ProcessorConfig& p) {
  std::string text = p.resize == preprocess::ResizeMode::kToSize
                         ? fmt::format("resize {}x{}", p.width, p.height)
                         : fmt::format("resize shortest edge {}", p.shortest_edge);
  text += fmt::format(" {}(pillow)", preprocess::resample_name(p.resample));
  if (p.center_crop) text += fmt::format("; center crop {}x{}", p.crop_width, p.crop_height);
  text += fmt::format("; rescale {}; mean [{}]; std [{}]; rgb; exif not applied", p.rescale_factor,
                      fmt::join(p.mean, ", "), fmt::join(p.std, ", "));
  return text;
}

EncoderFingerprint make_fingerprint(const ModelLocation& location, const Checkpoint& checkpoint,
                                    const ModelConfig& config, std::string compute_dtype,
                                    int embedding_dim) {
  EncoderFingerprint f;
  f.family = family_name(config.vision.family);
  f.model_id = location.id;
  f.revision = location.revision;
  f.weights_digest = weights_digest(checkpoint);
  f.preprocessing = describe_preprocessing(config.processor);
  f.architecture = config.vision.describe();
  f.input_height = config.processor.input_height();
  f.input_width = config.processor.input_width();
  f.compute_dtype = std::move(compute_dtype);
  f.embedding_dim = embedding_dim;
  f.normalized = false;
  f.deft_version = DEFT_VERSION;
  return f;
}

std::string EncoderFingerprint::to_json() const {
  const nlohmann::json j = {{"family", family},
                            {"model_id", model_id},
                            {"revision", revision},
                            {"weights_digest", weights_digest},
                            {"preprocessing", preprocessing},
                            {"input_size", {input_height, input_width}},
                            {"compute_dtype", compute_dtype},
                            {"embedding_dim", embedding_dim},
                            {"normalized", normalized},
                            {"deft_version", deft_version}};
  nlohmann::json out = j;
  if (!architecture.empty()) out["architecture"] = architecture;
  if (!tower.empty()) out["tower"] = tower;
  if (!exif_orientation.empty()) out["exif_orientation"] = exif_orientation;
  if (shrink_on_load) out["shrink_on_load"] = *shrink_on_load;
  return out.dump();  // keys sorted: the same fingerprint always gives the same text
}

EncoderFingerprint EncoderFingerprint::from_json(std::string_view text, std::string_view source) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    EncoderFingerprint f;
    f.family = j.at("family").get<std::string>();
    f.model_id = j.at("model_id").get<std::string>();
    f.revision = j.at("revision").get<std::string>();
    f.weights_digest = j.at("weights_digest").get<std::string>();
    f.preprocessing = j.at("preprocessing").get<std::string>();
    // Sizes are checked before conversion: the text comes from a user's table.
    const auto size_at = [&](const nlohmann::json& v, const char* what) {
      const std::optional<int64_t> n = whole_number(v);
      if (!n || *n < 0 || *n > std::numeric_limits<int>::max()) {
        throw Error(ErrorKind::kInput, fmt::format("{}: deft.encoder's {} is {}, not a size",
                                                   source, what, json_excerpt(v)));
      }
      return static_cast<int>(*n);
    };
    f.input_height = size_at(j.at("input_size").at(0), "input_size");
    f.input_width = size_at(j.at("input_size").at(1), "input_size");
    f.compute_dtype = j.at("compute_dtype").get<std::string>();
    f.embedding_dim = size_at(j.at("embedding_dim"), "embedding_dim");
    f.normalized = j.at("normalized").get<bool>();
    f.deft_version = j.at("deft_version").get<std::string>();
    f.architecture = j.value("architecture", std::string());
    f.tower = j.value("tower", std::string());
    f.exif_orientation = j.value("exif_orientation", std::string());
    if (j.contains("shrink_on_load")) f.shrink_on_load = j.at("shrink_on_load").get<bool>();
    return f;
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("{}: deft.encoder is not a valid encoder fingerprint ({})", source, e.what()));
  }
}

std::optional<EncoderFingerprint> fingerprint_in(const std::map<std::string, std::string>& metadata,
                                                 std::string_view source) {
  const auto it = metadata.find(kFingerprintKey);
  if (it == metadata.end()) return std::nullopt;
  return EncoderFingerprint::from_json(it->second, source);
}

namespace {

// Equal, or unknown on one side (a fingerprint written before the field existed).
bool agree(const std::string& a, const std::string& b) {
  return a.empty() || b.empty() || a == b;
}

}  // namespace

std::string encoder_name(const EncoderFingerprint& f) {
  if (f.model_id.empty() || f.model_id == f.family) return f.family;
  return f.family + " " + f.model_id;
}

std::string describe(const EncoderFingerprint& f) {
  return fmt::format("{}{} ({}-dim, {}{})", encoder_name(f), f.tower == "text" ? " text tower" : "",
                     f.embedding_dim, f.compute_dtype,
                     f.exif_orientation.empty() ? "" : ", exif_orientation=" + f.exif_orientation);
}

bool same_encoder(const EncoderFingerprint& a, const EncoderFingerprint& b) {
  return a.family == b.family && a.tower == b.tower && a.weights_digest == b.weights_digest &&
         a.preprocessing == b.preprocessing && agree(a.architecture, b.architecture) &&
         agree(a.exif_orientation, b.exif_orientation) && a.input_height == b.input_height &&
         a.input_width == b.input_width && a.embedding_dim == b.embedding_dim &&
         a.normalized == b.normalized;
}

bool same_checkpoint_other_tower(const EncoderFingerprint& a, const EncoderFingerprint& b) {
  return (a.tower == "text") != (b.tower == "text") && a.family == b.family &&
         a.weights_digest == b.weights_digest && a.embedding_dim == b.embedding_dim &&
         a.normalized == b.normalized;
}

bool same_embeddings(const EncoderFingerprint& a, const EncoderFingerprint& b) {
  return same_encoder(a, b) && a.compute_dtype == b.compute_dtype &&
         a.shrink_on_load == b.shrink_on_load;
}

std::string tolerated_differences(const EncoderFingerprint& a, const EncoderFingerprint& b) {
  std::vector<std::string> notes;
  if (a.shrink_on_load && b.shrink_on_load && *a.shrink_on_load != *b.shrink_on_load) {
    notes.push_back(fmt::format("shrink_on_load {} vs {}", *a.shrink_on_load, *b.shrink_on_load));
  }
  return fmt::format("{}", fmt::join(notes, "; "));
}

}  // namespace deft::model
