#include "fuzz_support.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/log.h"
#include "model/safetensors.h"

namespace deft::fuzz {
namespace fs = std::filesystem;

namespace {

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    const fs::path base = tmp != nullptr           ? fs::path(tmp)
                          : fs::exists("/dev/shm") ? "/dev/shm"
                                                   : "/tmp";
    path = base / ("deft-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};

}  // namespace

const fs::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

fs::path write_input(std::string_view name, const uint8_t* data, size_t size) {
  return write_input(name, std::string_view(reinterpret_cast<const char*>(data), size));
}

fs::path write_input(std::string_view name, std::string_view bytes) {
  const fs::path path = scratch_dir() / name;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) std::abort();  // the scratch folder itself failed: not a finding
  return path;
}

void widen_every_tensor(const model::TensorFile& file) {
  for (const auto& entry : file.tensors()) {
    const model::Tensor& tensor = entry.second;  // clang 14: no structured binding in a lambda
    expect_refusal_only([&] {
      const std::vector<float> values = model::to_f32(tensor);
      if (values.size() != static_cast<size_t>(tensor.numel())) __builtin_trap();
    });
  }
}

void silence_log() {
  static NullBuffer buffer;
  static std::ostream nowhere(&buffer);
  log::sink().stream = &nowhere;
  log::sink().quiet = true;
}

}  // namespace deft::fuzz
