// A CLIP tokenizer's own files from a checkpoint folder: vocab.json, then optionally a NUL and
// merges.txt. Loaded, then used on a fixed caption.
#include <string_view>

#include "fuzz_support.h"
#include "text/clip_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  deft::fuzz::write_input("clip/vocab.json", input.substr(0, split));
  deft::fuzz::write_input("clip/merges.txt",
                          split == std::string_view::npos ? "" : input.substr(split + 1));
  deft::fuzz::expect_refusal_only([&] {
    const auto clip = deft::text::ClipTokenizer::load(deft::fuzz::scratch_dir() / "clip");
    (void)clip.encode("a photo of a scratched metal part, 3 cm");
  });
  return 0;
}
