#include "model/processor_config.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "common/error.h"
#include "model/families.h"
#include "model/json_fields.h"

namespace deft::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using preprocess::ProcessorConfig;
using preprocess::Resample;
using preprocess::ResizeMode;

constexpr std::array<float, 3> kClipMean = {0.48145466F, 0.4578275F, 0.40821073F};
constexpr std::array<float, 3> kClipStd = {0.26862954F, 0.26130258F, 0.27577711F};
constexpr std::array<float, 3> kImagenetMean = {0.485F, 0.456F, 0.406F};
constexpr std::array<float, 3> kImagenetStd = {0.229F, 0.224F, 0.225F};
constexpr std::array<float, 3> kHalf = {0.5F, 0.5F, 0.5F};

// How a processor class reads `size`: an int is the shortest edge (CLIP, Bit) or a square
// (ViT); SigLIP's processor takes only {"height", "width"}. Whether it crops at all.
struct ProcessorClass {
  const char* name;
  bool int_size_is_square;
  bool int_size_allowed;
  bool crops;
  ProcessorConfig defaults;
};

ProcessorConfig shortest_edge_then_crop(int edge, int crop, std::array<float, 3> mean,
                                        std::array<float, 3> std) {
  ProcessorConfig p;
  p.resize = ResizeMode::kShortestEdge;
  p.shortest_edge = edge;
  p.center_crop = true;
  p.crop_height = p.crop_width = crop;
  p.mean = mean;
  p.std = std;
  return p;
}

ProcessorConfig to_size(int side, Resample resample) {
  ProcessorConfig p;
  p.resize = ResizeMode::kToSize;
  p.height = p.width = side;
  p.resample = resample;
  p.mean = kHalf;
  p.std = kHalf;
  return p;
}

// The classes of transformers' image_processing_{clip,siglip,bit,vit}.py (their __init__
// defaults); the "Fast" variants and the legacy feature extractors read the same keys.
const ProcessorClass* find_class(const std::string& name) {
  static const ProcessorClass kClasses[] = {
      {"CLIPImageProcessor", false, true, true,
       shortest_edge_then_crop(224, 224, kClipMean, kClipStd)},
      {"CLIPFeatureExtractor", false, true, true,
       shortest_edge_then_crop(224, 224, kClipMean, kClipStd)},
      {"BitImageProcessor", false, true, true,
       shortest_edge_then_crop(224, 224, kClipMean, kClipStd)},
      {"SiglipImageProcessor", false, false, false, to_size(224, Resample::kBicubic)},
      {"ViTImageProcessor", true, true, false, to_size(224, Resample::kBilinear)},
      {"ViTFeatureExtractor", true, true, false, to_size(224, Resample::kBilinear)},
  };
  std::string base = name;
  if (base.ends_with("Fast")) base.resize(base.size() - 4);
  for (const ProcessorClass& c : kClasses) {
    if (base == c.name) return &c;
  }
  return nullptr;
}

// `size` or `crop_size`: an int, a [height, width] list, or a dict of height/width or
// shortest_edge (transformers' get_size_dict).
struct SizeField {
  int height = -1;
  int width = -1;
  int shortest_edge = -1;
};

SizeField read_size(const json& p, const char* key, bool int_is_square, bool int_allowed,
                    const fs::path& file) {
  SizeField size;
  const auto it = p.find(key);
  if (it == p.end() || it->is_null()) return size;
  if (it->is_number()) {
    if (!int_allowed)
      refuse_config(file, fmt::format("'{}' must be {{\"height\", \"width\"}}", key));
    int value = 0;
    read_value(*it, key, value, file);
    if (int_is_square) {
      size.height = size.width = value;
    } else {
      size.shortest_edge = value;
    }
  } else if (it->is_array() && it->size() == 2) {
    read_value((*it)[0], key, size.height, file);
    read_value((*it)[1], key, size.width, file);
  } else if (it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (name != "height" && name != "width" && name != "shortest_edge") {
        refuse_config(file,
                      fmt::format("'{}' has '{}', which deft does not reproduce (height, width, "
                                  "shortest_edge)",
                                  key, name));
      }
    }
    read_field(*it, "height", size.height, file);
    read_field(*it, "width", size.width, file);
    read_field(*it, "shortest_edge", size.shortest_edge, file);
  } else {
    refuse_config(file,
                  fmt::format("'{}' must be a number, a [height, width] list or an object", key));
  }
  if ((size.height == 0 || size.height < -1) || (size.width == 0 || size.width < -1) ||
      size.shortest_edge == 0 || size.shortest_edge < -1) {
    refuse_config(file, fmt::format("'{}' must be positive", key));
  }
  // The model input is resized to this: bounded as check_vision bounds image_size.
  constexpr int kMaxSide = 16384;
  if (size.height > kMaxSide || size.width > kMaxSide || size.shortest_edge > kMaxSide)
    refuse_config(file, fmt::format("'{}' is larger than {} pixels", key, kMaxSide));
  return size;
}

void read_resample(const json& p, ProcessorConfig& config, const fs::path& file) {
  int value = static_cast<int>(config.resample);
  read_field(p, "resample", value, file);
  const auto resample = preprocess::resample_from_pil(value);
  if (!resample) {
    refuse_config(file,
                  fmt::format("resample {} is not a PIL filter (0 NEAREST, 1 LANCZOS, 2 BILINEAR, "
                              "3 BICUBIC, 4 BOX, 5 HAMMING)",
                              value));
  }
  config.resample = *resample;
}

void read_mean_std(const json& p, ProcessorConfig& config, const fs::path& file) {
  for (const char* key : {"image_mean", "image_std"}) {
    const auto it = p.find(key);
    if (it == p.end() || it->is_null()) continue;
    std::vector<float> values;
    read_field(p, key, values, file);
    if (values.size() == 1) values.assign(3, values[0]);
    if (values.size() != 3) refuse_config(file, fmt::format("'{}' needs 3 values (or 1)", key));
    std::array<float, 3>& target = std::string(key) == "image_mean" ? config.mean : config.std;
    std::copy(values.begin(), values.end(), target.begin());
  }
  if (std::any_of(config.std.begin(), config.std.end(), [](float s) { return !(s > 0.0F); })) {
    refuse_config(file, "image_std values must be positive");
  }
}

}  // namespace

preprocess::ProcessorConfig default_processor(const VisionConfig& v) {
  return family_row(v.family).default_processor(v);
}

preprocess::ProcessorConfig siglip_default_processor(const VisionConfig& v) {
  return to_size(v.image_size, Resample::kBicubic);
}

preprocess::ProcessorConfig clip_default_processor(const VisionConfig& v) {
  return shortest_edge_then_crop(v.image_size, v.image_size, kClipMean, kClipStd);
}

preprocess::ProcessorConfig dinov2_default_processor(const VisionConfig&) {
  return shortest_edge_then_crop(256, 224, kImagenetMean, kImagenetStd);
}

preprocess::ProcessorConfig load_processor_config(const fs::path& file, const VisionConfig& v) {
  const json p = read_json_object(file);
  std::string class_name;
  read_field(p, "image_processor_type", class_name, file);
  if (class_name.empty()) read_field(p, "feature_extractor_type", class_name, file);
  const ProcessorClass* known = class_name.empty() ? nullptr : find_class(class_name);
  if (!class_name.empty() && known == nullptr) {
    refuse_config(file, fmt::format("image processor '{}' is not one deft reproduces "
                                    "(CLIPImageProcessor, SiglipImageProcessor, BitImageProcessor, "
                                    "ViTImageProcessor)",
                                    class_name));
  }
  ProcessorConfig config = known ? known->defaults : default_processor(v);
  const bool int_is_square = known && known->int_size_is_square;
  const bool int_allowed = !known || known->int_size_allowed;
  const bool crops = known ? known->crops : config.center_crop;

  bool do_resize = true;
  read_field(p, "do_resize", do_resize, file);
  if (!do_resize)
    refuse_config(file, "do_resize false gives inputs of varying size; deft needs a resize");
  read_resample(p, config, file);

  const SizeField size = read_size(p, "size", int_is_square, int_allowed, file);
  if (size.shortest_edge > 0) {
    if (!crops) refuse_config(file, "a shortest_edge size needs a processor that crops");
    config.resize = ResizeMode::kShortestEdge;
    config.shortest_edge = size.shortest_edge;
  } else if (size.height > 0 && size.width > 0) {
    config.resize = ResizeMode::kToSize;
    config.height = size.height;
    config.width = size.width;
  } else if (size.height > 0 || size.width > 0) {
    refuse_config(file, "'size' needs both height and width");
  }

  if (crops) {
    read_field(p, "do_center_crop", config.center_crop, file);
    const SizeField crop = read_size(p, "crop_size", true, true, file);
    if (crop.shortest_edge > 0) refuse_config(file, "'crop_size' needs height and width");
    if (crop.height > 0) config.crop_height = crop.height;
    if (crop.width > 0) config.crop_width = crop.width;
  } else {
    config.center_crop = false;  // this class never crops, whatever the file says
  }
  if (config.resize == ResizeMode::kShortestEdge && !config.center_crop) {
    refuse_config(file,
                  "a shortest-edge resize without a center crop gives inputs of varying size, "
                  "which deft does not support");
  }

  bool do_rescale = true;
  read_field(p, "do_rescale", do_rescale, file);
  read_field(p, "rescale_factor", config.rescale_factor, file);
  if (!do_rescale) config.rescale_factor = 1.0;
  read_mean_std(p, config, file);
  bool do_normalize = true;
  read_field(p, "do_normalize", do_normalize, file);
  if (!do_normalize) {
    config.mean = {0.0F, 0.0F, 0.0F};
    config.std = {1.0F, 1.0F, 1.0F};
  }
  return config;
}

}  // namespace deft::model
