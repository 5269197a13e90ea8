#pragma once
// preprocessor_config.json as the Hugging Face image processor class it names reads it: the
// class's defaults for absent keys, `size`/`crop_size` as an int (legacy) or a dict, every PIL
// resample filter, and the do_* switches. What would change the pixels and that deft does not
// reproduce is an Error(kInput) naming the file and key, never ignored.
//
//   preprocess::ProcessorConfig p = model::load_processor_config(folder /
//   "preprocessor_config.json",
//                                                                 vision);

#include <filesystem>

#include "model/vision_config.h"
#include "preprocess/image_processor.h"

namespace deft::model {

// The processor a checkpoint without preprocessor_config.json is run with: its family's
// (SigLIP: resize to image_size; CLIP: shortest edge image_size + crop; DINOv2: 256 + crop 224).
preprocess::ProcessorConfig default_processor(const VisionConfig& vision);
// The built-in families' processor defaults, for their registry rows (families.cpp):
// SiglipImageProcessor (resize to image_size, bicubic), CLIPImageProcessor (shortest edge, then
// center crop, CLIP's mean and std), BitImageProcessor for DINOv2 (256, then crop 224, ImageNet).
preprocess::ProcessorConfig siglip_default_processor(const VisionConfig& vision);
preprocess::ProcessorConfig clip_default_processor(const VisionConfig& vision);
preprocess::ProcessorConfig dinov2_default_processor(const VisionConfig& vision);

// Reads `file` (which must exist) over the defaults of the processor class it names
// (image_processor_type, or the legacy feature_extractor_type); a file naming no class is read
// over default_processor(vision).
preprocess::ProcessorConfig load_processor_config(const std::filesystem::path& file,
                                                  const VisionConfig& vision);

}  // namespace deft::model
