#pragma once
// safetensors checkpoints (../shared/specs/encoders.md §6), validated before any tensor is used.
//
//   model::SafetensorsFile file("ckpt/model.safetensors");
//   const model::Tensor& w = file.tensor("vision_model.post_layernorm.weight");
//   std::vector<float> values = model::to_f32(w);     // F32, F16 and BF16 up-converted
//
// Layout: u64 little-endian header length N, N bytes of JSON (name → dtype, shape,
// data_offsets relative to the data buffer; optional "__metadata__"), then the data buffer.
// Every rule of the format is checked: header ≤ 100,000,000 bytes, offsets inside the buffer,
// tensors contiguous with no holes or overlaps, size = numel × dtype size (no overflow),
// no duplicate names. Violations throw Error(kInput) naming the file and the tensor.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "model/mapped_file.h"

namespace deft::model {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

struct Tensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const std::byte> data;  // inside the file's mapping; not aligned
  std::filesystem::path file;

  int64_t numel() const;
};

inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// A checkpoint file's tensors, whatever its format (safetensors, PyTorch zip).
class TensorFile {
 public:
  virtual ~TensorFile() = default;
  virtual const std::filesystem::path& path() const = 0;
  virtual const std::map<std::string, Tensor>& tensors() const = 0;
  const Tensor* find(const std::string& name) const;
};

class SafetensorsFile final : public TensorFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const override { return file_.path(); }
  const std::map<std::string, Tensor>& tensors() const override { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  MappedFile file_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The tensor's values as float32 (F32 copied, F16/BF16 widened exactly). Other dtypes throw
// Error(kInput) naming the tensor.
std::vector<float> to_f32(const Tensor& tensor);

float f16_to_f32(uint16_t bits);
float bf16_to_f32(uint16_t bits);

}  // namespace deft::model
