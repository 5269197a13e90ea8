#pragma once
// A pytorch_model.bin (torch.save's zip format) read without Python and without executing
// anything: the zip's records are mapped, data.pkl goes through the restricted unpickler
// (torch_pickle.h), and each tensor points into its storage record (copied only when it is
// strided). The legacy pre-1.6 format is refused with a clear error.
//
//   TorchFile file("ckpt/pytorch_model.bin");
//   const Tensor* w = file.find("vision_model.post_layernorm.weight");

#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "model/mapped_file.h"
#include "model/safetensors.h"

namespace deft::model {

class TorchFile final : public TensorFile {
 public:
  // Throws Error(kInput) naming the file (and the tensor or record) for anything malformed.
  explicit TorchFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const override { return file_.path(); }
  const std::map<std::string, Tensor>& tensors() const override { return tensors_; }

 private:
  MappedFile file_;
  std::map<std::string, Tensor> tensors_;
  std::deque<std::vector<std::byte>> copies_;  // strided tensors made contiguous
};

}  // namespace deft::model
