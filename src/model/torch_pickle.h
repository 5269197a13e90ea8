#pragma once
// A restricted unpickler for the data.pkl of a PyTorch state dict, written for this purpose:
// it knows only the opcodes and the globals a dict of tensors needs (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter, the torch.*Storage types) and builds
// plain descriptions of the tensors. It never calls, imports or executes anything; any other
// global (os.system, builtins.eval, subprocess.*, …) or opcode is refused with an Error(kInput)
// naming it.
//
//   std::vector<PickledTensor> tensors = read_state_dict_pickle(zip_entry, path);

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace deft::model {

struct PickledTensor {
  std::string name;         // the state dict key
  std::string storage_key;  // the record data/<key> that holds the storage
  DType dtype = DType::kF32;
  int64_t storage_numel = 0;  // elements in the storage
  int64_t offset = 0;         // in elements
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
};

// The tensors of a flat state dict ({name: tensor}), in pickle order.
std::vector<PickledTensor> read_state_dict_pickle(std::span<const std::byte> pickle,
                                                  const std::filesystem::path& path);

}  // namespace deft::model
