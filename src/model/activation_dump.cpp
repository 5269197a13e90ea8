#include "model/activation_dump.h"

#include <fmt/format.h>

#include "common/atomic_file.h"

namespace deft::model {

ActivationDump::ActivationDump(std::filesystem::path directory) {
  if (directory.empty()) return;
  state_ = std::make_shared<State>();
  state_->directory = std::move(directory);
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
