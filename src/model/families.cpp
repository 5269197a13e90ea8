#include "model/families.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>

#include "common/error.h"
#include "common/text.h"
#include "model/encoder.h"
#include "model/processor_config.h"

namespace deft::model {

namespace {

// SiglipVisionConfig's defaults are VisionConfig's own.
VisionConfig siglip_defaults() {
  return {};
}

// CLIPVisionConfig's.
VisionConfig clip_defaults() {
  VisionConfig v;
  v.patch_size = 32;
  v.hidden_act = Activation::kQuickGelu;
  v.layer_norm_eps = 1e-5F;
  v.projection_dim = 512;
  v.use_head = false;
  return v;
}

// Dinov2Config's (image_size is read with its own default, see read_dinov2_config).
VisionConfig dinov2_defaults() {
  VisionConfig v;
  v.patch_size = 14;
  v.hidden_act = Activation::kGeluErf;
  v.use_head = false;
  return v;
}

struct Registry {
  std::mutex mutex;
  std::deque<FamilyRow> rows;  // deque: rows never move, so references to them stay valid
};

Registry& registry() {
  static Registry* r = [] {
    auto* built = new Registry;  // lives for the program: rows are referenced from anywhere
    built->rows.push_back({Family::kSigLIP,
                           "SigLIP",
                           {"SigLIP2"},
                           {"siglip", "siglip_vision_model"},
                           siglip_defaults,
                           read_siglip_config,
                           siglip_default_processor,
                           make_siglip});
    built->rows.push_back({Family::kCLIP,
                           "CLIP",
                           {},
                           {"clip", "clip_vision_model"},
                           clip_defaults,
                           read_clip_config,
                           clip_default_processor,
                           make_clip});
    built->rows.push_back({Family::kDINOv2,
                           "DINOv2",
                           {},
                           {"dinov2", "dinov2_with_registers"},
                           dinov2_defaults,
                           read_dinov2_config,
                           dinov2_default_processor,
                           make_dinov2});
    return built;
  }();
  return *r;
}

}  // namespace

const FamilyRow& family_row(Family family) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto index = static_cast<size_t>(family);
  DEFT_ASSERT(index < r.rows.size(), "a family id comes from the registry");
  return r.rows[index];
}

const FamilyRow* family_named(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const std::string wanted = ascii_lower(name);
  for (const FamilyRow& row : r.rows) {
    if (ascii_lower(row.name) == wanted) return &row;
    for (const std::string& alias : row.aliases) {
      if (ascii_lower(alias) == wanted) return &row;
    }
  }
  return nullptr;
}

const FamilyRow* family_of_model_type(std::string_view model_type) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (const FamilyRow& row : r.rows) {
    if (std::find(row.model_types.begin(), row.model_types.end(), model_type) !=
        row.model_types.end()) {
      return &row;
    }
  }
  return nullptr;
}

std::vector<std::string> known_model_types() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> types;
  for (const FamilyRow& row : r.rows)
    types.insert(types.end(), row.model_types.begin(), row.model_types.end());
  return types;
}

std::vector<std::string> family_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const FamilyRow& row : r.rows) {
    names.push_back(row.name);
    names.insert(names.end(), row.aliases.begin(), row.aliases.end());
  }
  return names;
}

Family register_family(FamilyRow row) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  row.id = static_cast<Family>(r.rows.size());
  r.rows.push_back(std::move(row));
  return r.rows.back().id;
}

}  // namespace deft::model
