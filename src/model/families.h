#pragma once
// The encoder families, one registry row each: its name and aliases (the `model` key), the
// config.json model_type values it loads, the configuration class's defaults and the fields it
// reads, its processor's defaults, and the builder of its forward pass. Adding a family is one
// row and one builder (tests register one of their own).
//
//   const FamilyRow& row = family_row(Family::kCLIP);
//   const FamilyRow* named = family_named("siglip2");          // name or alias, any case
//   Family mine = register_family({.name = "TestMean", ...});   // a new id

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/activation_dump.h"
#include "model/vision_config.h"
#include "model/vit.h"

namespace deft::model {

class Checkpoint;
class Encoder;

struct FamilyRow {
  Family id = Family::kSigLIP;  // assigned by register_family
  std::string name;             // as the `model` key and the fingerprint say it
  std::vector<std::string> aliases;
  std::vector<std::string> model_types;  // config.json's model_type values it loads
  // The configuration class's defaults, before config.json is read.
  std::function<VisionConfig()> defaults;
  // Reads the family's fields of config.json (`root`: the whole file) into `config`. Throws
  // Error(kInput) naming the file for what deft does not reproduce.
  std::function<void(const nlohmann::json& root, const std::string& model_type,
                     VisionConfig& config, const std::filesystem::path& file)>
      read_config;
  // The processor's defaults when the checkpoint has no preprocessor_config.json.
  std::function<preprocess::ProcessorConfig(const VisionConfig&)> default_processor;
  std::function<std::unique_ptr<Encoder>(const Checkpoint&, ModelConfig, const ComputeOptions&,
                                         ActivationDump)>
      build;
};

// The row of a registered family (DEFT_ASSERT: every Family value comes from the registry).
const FamilyRow& family_row(Family family);
// The family a `model` value names (name or alias, case-insensitive), or nullptr.
const FamilyRow* family_named(std::string_view name);
// The family whose checkpoints carry this model_type, or nullptr.
const FamilyRow* family_of_model_type(std::string_view model_type);
// Every family's config.json model_type values, in registry order (for errors).
std::vector<std::string> known_model_types();
// Every family's name and aliases, in registry order (for help and errors).
std::vector<std::string> family_names();
// Adds a family; returns its new id.
Family register_family(FamilyRow row);

}  // namespace deft::model
