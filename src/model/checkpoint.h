#pragma once
// Where a model's files are, and its tensors — offline only; nothing is ever downloaded.
//
//   model::ModelLocation where = model::resolve_model_path("google/siglip-base-patch16-224",
//                                                          model::HubEnvironment::from_process());
//   model::Checkpoint checkpoint(where.folder);     // config.json + safetensors (maybe sharded)
//   const model::Tensor& w = checkpoint.tensor("vision_model.post_layernorm.weight");
//
// model_path is either a local checkpoint folder, or a hub id `org/name[@revision]` looked up
// in the local Hugging Face cache (../shared/specs/encoders.md §7): HF_HUB_CACHE, else
// HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub; models--ORG--NAME/refs/<revision> holds the commit whose
// snapshots/<commit>/ folder is the checkpoint.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/safetensors.h"

namespace deft::model {

struct HubEnvironment {
  std::string hf_hub_cache;           // HF_HUB_CACHE
  std::string huggingface_hub_cache;  // HUGGINGFACE_HUB_CACHE (legacy)
  std::string hf_home;                // HF_HOME
  std::string xdg_cache_home;         // XDG_CACHE_HOME
  std::string home;                   // HOME
  static HubEnvironment from_process();
};

// The hub cache folder the environment selects (it need not exist).
std::filesystem::path hub_cache_root(const HubEnvironment& env);

struct ModelLocation {
  std::filesystem::path folder;  // the checkpoint folder (a cache snapshot or a local folder)
  std::string id;                // the hub id, or the local folder's absolute path
  std::string revision;          // the commit hash for hub models; empty for local folders
};

// Throws Error(kInput) naming the folders searched when the model cannot be found, and a clear
// "not supported yet" for TAO .pth/.ckpt files.
ModelLocation resolve_model_path(std::string_view model_path, const HubEnvironment& env);

// The weights of a checkpoint folder, in transformers' order of preference: model.safetensors,
// the shards of model.safetensors.index.json, pytorch_model.bin (read by deft's restricted
// unpickler, torch_file.h), the shards of pytorch_model.bin.index.json.
class Checkpoint {
 public:
  explicit Checkpoint(const std::filesystem::path& folder);

  const std::filesystem::path& folder() const { return folder_; }
  const Tensor* find(const std::string& name) const;
  // Throws Error(kInput) naming the tensor and the checkpoint when it is absent.
  const Tensor& tensor(const std::string& name) const;
  // Every tensor name, sorted.
  std::vector<std::string> names() const;

 private:
  void open_shards(const std::filesystem::path& index);

  std::filesystem::path folder_;
  std::vector<std::unique_ptr<TensorFile>> files_;
  std::map<std::string, const Tensor*> tensors_;
};

}  // namespace deft::model
