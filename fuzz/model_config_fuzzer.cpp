// config.json + preprocessor_config.json → the vision config and the preprocessing, for every
// family. Input: config.json's bytes, then optionally a NUL and preprocessor_config.json's
// (JSON text holds no raw NUL, so the split is unambiguous).
#include <cstring>
#include <filesystem>
#include <string_view>

#include "fuzz_support.h"
#include "model/families.h"
#include "model/vision_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::filesystem::path folder = deft::fuzz::scratch_dir() / "checkpoint";
  deft::fuzz::write_input("checkpoint/config.json", input.substr(0, split));
  const std::filesystem::path processor = folder / "preprocessor_config.json";
  if (split == std::string_view::npos) {
    std::filesystem::remove(processor);
  } else {
    deft::fuzz::write_input("checkpoint/preprocessor_config.json", input.substr(split + 1));
  }
  for (const std::string& name : deft::model::family_names()) {
    deft::fuzz::expect_refusal_only([&] {
      const deft::model::ModelConfig config =
          deft::model::load_model_config(folder, deft::model::parse_family(name));
      (void)config.vision.describe();
    });
  }
  return 0;
}
