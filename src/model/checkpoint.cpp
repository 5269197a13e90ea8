#include "model/checkpoint.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/torch_file.h"

namespace deft::model {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kShardIndex = "model.safetensors.index.json";
constexpr const char* kTorchFile = "pytorch_model.bin";
constexpr const char* kTorchShardIndex = "pytorch_model.bin.index.json";
constexpr const char* kSupportedFormats =
    "deft reads Hugging Face checkpoint folders: config.json with model.safetensors or "
    "pytorch_model.bin (or their .index.json and shards)";

// One checkpoint file in the format its name says.
std::unique_ptr<TensorFile> open_tensor_file(const fs::path& path) {
  if (path.extension() == ".safetensors") return std::make_unique<SafetensorsFile>(path);
  return std::make_unique<TorchFile>(path);
}

std::string env_or_empty(const char* name) {
  // Read when a model is resolved, before any worker thread changes the environment.
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return value == nullptr ? std::string() : std::string(value);
}

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

bool is_commit_hash(const std::string& text) {
  return text.size() == 40 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string download_hint(const std::string& id) {
  return fmt::format(
      "on a machine with network access run `huggingface-cli download {}` and copy its cache "
      "folder here (or point HF_HUB_CACHE at it), or set model_path to a local checkpoint folder",
      id);
}

ModelLocation resolve_in_cache(const std::string& id, const std::string& revision,
                               const HubEnvironment& env) {
  const fs::path root = hub_cache_root(env);
  std::string folder_name = "models--" + id;
  for (size_t at = folder_name.find('/'); at != std::string::npos; at = folder_name.find('/')) {
    folder_name.replace(at, 1, "--");
  }
  const fs::path repo = root / folder_name;
  if (!fs::is_directory(repo)) {
    throw Error(ErrorKind::kInput,
                fmt::format("model '{}' is not a local folder and is not in the Hugging Face cache "
                            "(looked in '{}'); deft never downloads models",
                            id, repo.string()),
                download_hint(id));
  }
  std::string commit = revision;
  if (!is_commit_hash(revision)) {
    const fs::path ref = repo / "refs" / revision;
    if (!fs::is_regular_file(ref)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("revision '{}' of '{}' is not in the cache (no '{}')", revision, id,
                              ref.string()),
                  download_hint(revision == "main" ? id : id + " --revision " + revision));
    }
    commit = trimmed(read_small_file(ref));
    if (!is_commit_hash(commit)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("'{}' should hold a 40-character commit hash, holds '{}'",
                              ref.string(), commit));
    }
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  if (!fs::is_directory(snapshot)) {
    throw Error(ErrorKind::kInput,
                fmt::format("snapshot '{}' of '{}' is missing from the cache (no folder '{}')",
                            commit, id, snapshot.string()),
                download_hint(id));
  }
  return {snapshot, id, commit};
}

}  // namespace

HubEnvironment HubEnvironment::from_process() {
  return {env_or_empty("HF_HUB_CACHE"), env_or_empty("HUGGINGFACE_HUB_CACHE"),
          env_or_empty("HF_HOME"), env_or_empty("XDG_CACHE_HOME"), env_or_empty("HOME")};
}

fs::path hub_cache_root(const HubEnvironment& env) {
  if (!env.hf_hub_cache.empty()) return env.hf_hub_cache;
  if (!env.huggingface_hub_cache.empty()) return env.huggingface_hub_cache;
  if (!env.hf_home.empty()) return fs::path(env.hf_home) / "hub";
  if (!env.xdg_cache_home.empty()) return fs::path(env.xdg_cache_home) / "huggingface" / "hub";
  return fs::path(env.home) / ".cache" / "huggingface" / "hub";
}

ModelLocation resolve_model_path(std::string_view model_path, const HubEnvironment& env) {
  const fs::path path{std::string(model_path)};
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path folder = fs::canonical(path, ec);
    return {folder, folder.string(), ""};
  }
  if (fs::exists(path, ec)) {
    const std::string ext = path.extension().string();
    if (ext == ".pth" || ext == ".ckpt" || ext == ".pt") {
      throw Error(ErrorKind::kInput,
                  fmt::format("'{}' is a PyTorch/TAO checkpoint ({}), which deft does not support "
                              "yet",
                              path.string(), ext),
                  kSupportedFormats);
    }
    throw Error(ErrorKind::kInput,
                fmt::format("model_path '{}' is a file; give the checkpoint folder that holds it",
                            path.string()),
                kSupportedFormats);
  }
  // org/name[@revision], as the hub spells ids; anything else was meant as a path.
  static const std::regex hub_id(
      R"(^([A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?)(?:@([\w./-]+))?$)");
  std::cmatch match;
  const std::string text(model_path);
  if (!std::regex_match(text.c_str(), match, hub_id) || text.find("..") != std::string::npos) {
    throw Error(ErrorKind::kInput, fmt::format("model folder '{}' not found", text),
                "model_path is a checkpoint folder or a hub id such as org/name[@revision]");
  }
  return resolve_in_cache(match[1].str(), match[2].matched ? match[2].str() : "main", env);
}

Checkpoint::Checkpoint(const fs::path& folder) : folder_(folder) {
  // transformers' order of preference: safetensors first, then the pickle format.
  if (fs::exists(folder / kSingleFile)) {
    files_.push_back(open_tensor_file(folder / kSingleFile));
  } else if (fs::exists(folder / kShardIndex)) {
    open_shards(folder / kShardIndex);
  } else if (fs::exists(folder / kTorchFile)) {
    files_.push_back(open_tensor_file(folder / kTorchFile));
  } else if (fs::exists(folder / kTorchShardIndex)) {
    open_shards(folder / kTorchShardIndex);
  } else {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' has no {}, {}, {} or {}", folder.string(), kSingleFile,
                            kShardIndex, kTorchFile, kTorchShardIndex),
                kSupportedFormats);
  }
  for (const auto& file : files_) {
    for (const auto& [name, tensor] : file->tensors())
      tensors_.emplace(name, &tensor);
  }
}

void Checkpoint::open_shards(const fs::path& index) {
  nlohmann::json map;
  try {
    map = nlohmann::json::parse(read_small_file(index)).at("weight_map");
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' has no valid weight_map: {}", index.string(), e.what()));
  }
  if (!map.is_object())
    throw Error(ErrorKind::kInput,
                fmt::format("'{}': weight_map is not an object", index.string()));
  std::map<std::string, const TensorFile*> shards;
  for (const auto& [name, file] : map.items()) {
    if (!file.is_string()) {
      throw Error(ErrorKind::kInput,
                  fmt::format("'{}': the shard of '{}' is not a file name", index.string(), name));
    }
    const std::string shard = file.get<std::string>();
    if (!shards.count(shard)) {
      if (shard.find('/') != std::string::npos || !fs::exists(folder_ / shard)) {
        throw Error(ErrorKind::kInput,
                    fmt::format("shard '{}' listed in '{}' is missing", shard, index.string()));
      }
      files_.push_back(open_tensor_file(folder_ / shard));
      shards[shard] = files_.back().get();
    }
    if (shards[shard]->find(name) == nullptr) {
      throw Error(ErrorKind::kInput, fmt::format("'{}' places tensor '{}' in '{}', which does not "
                                                 "hold it",
                                                 index.string(), name, shard));
    }
  }
}

const Tensor* Checkpoint::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

const Tensor& Checkpoint::tensor(const std::string& name) const {
  const Tensor* t = find(name);
  if (t == nullptr) {
    throw Error(ErrorKind::kInput,
                fmt::format("checkpoint '{}' has no tensor '{}'", folder_.string(), name),
                "check that model (the family) matches the checkpoint");
  }
  return *t;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : tensors_)
    out.push_back(name);
  return out;
}

}  // namespace deft::model
