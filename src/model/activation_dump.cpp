#include "model/activation_dump.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "common/atomic_file.h"

namespace deft::model {

ActivationDump::ActivationDump(std::filesystem::path directory, bool intermediates) {
  if (directory.empty()) return;
  state_ = std::make_shared<State>();
  state_->directory = std::move(directory);
  state_->intermediates = intermediates;
}

void ActivationDump::write_strided(std::string_view name, const void* data, bool bf16, size_t rows,
                                   size_t cols, size_t stride) const {
  if (!state_) return;
  std::vector<float> packed(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const size_t at = r * stride + c;
      if (bf16) {
        const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(data)[at]) << 16;
        std::memcpy(&packed[r * cols + c], &bits, sizeof(float));
      } else {
        packed[r * cols + c] = static_cast<const float*>(data)[at];
      }
    }
  }
  write(name, packed.data(), rows, cols);
}

void ActivationDump::begin() const {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  state_->index.clear();
}

void ActivationDump::write(std::string_view name, const float* data, size_t rows,
                           size_t cols) const {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  write_file_atomically(
      state_->directory / fmt::format("{}.f32", name),
      std::string_view(reinterpret_cast<const char*>(data), rows * cols * sizeof(float)));
  state_->index.push_back(fmt::format("{} {} {}", name, rows, cols));
  std::string index;
  for (const std::string& line : state_->index)
    index += line + "\n";
  write_file_atomically(state_->directory / "index.txt", index);
}

}  // namespace deft::model
