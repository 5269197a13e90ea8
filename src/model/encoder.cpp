#include "model/encoder.h"

namespace deft::model {

std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& folder, Family family) {
  ModelConfig config = load_model_config(folder, family);
  const Checkpoint checkpoint(folder);
  switch (family) {
    case Family::kSigLIP:
      return make_siglip(checkpoint, std::move(config));
    case Family::kCLIP:
      return make_clip(checkpoint, std::move(config));
    case Family::kDINOv2:
      return make_dinov2(checkpoint, std::move(config));
  }
  return nullptr;
}

}  // namespace deft::model
