#pragma once
// Named intermediate activations written to disk, to find the first layer where an encoder
// diverges from a reference (llama.cpp's habit). Off unless a directory is given
// (EncoderOptions::dump_directory, or the DEFT_DUMP_ACTIVATIONS environment variable).
//
// Each encode() call writes <dir>/<name>.f32 (raw float32, row-major) for: "embeddings" (patch
// + class + positions), "block.<i>" (after block i), "output" (the embeddings returned), and
// rewrites <dir>/index.txt with one "<name> <rows> <cols>" line per tensor. Later calls
// overwrite earlier ones.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace deft::model {

class ActivationDump {
 public:
  ActivationDump() = default;  // off
  explicit ActivationDump(std::filesystem::path directory);
  bool enabled() const { return state_ != nullptr; }
  // Starts a new encode() call: the index lists only what this call writes.
  void begin() const;
  void write(std::string_view name, const float* data, size_t rows, size_t cols) const;

 private:
  struct State {
    std::filesystem::path directory;
    std::mutex mutex;
    std::vector<std::string> index;
  };
  std::shared_ptr<State> state_;
};

}  // namespace deft::model
