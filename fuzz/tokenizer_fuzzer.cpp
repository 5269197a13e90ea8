// Text as the three tokenizers see it (CLIP byte-level BPE, SigLIP and Gemma SentencePiece),
// on the test suite's tokenizer files: any bytes, valid UTF-8 or not. Every encoding is
// max_length ids (padded) or fewer, and each id is inside the vocabulary.
#include <string_view>

#include "fuzz_support.h"
#include "text/clip_tokenizer.h"
#include "text/gemma_tokenizer.h"
#include "text/siglip_tokenizer.h"

namespace {

const std::filesystem::path kText = DEFT_SOURCE_DIR "/tests/data/text";

template <typename Ids>
void check(const Ids& ids, size_t max_length) {
  if (ids.size() > max_length) __builtin_trap();
  for (const int32_t id : ids)
    if (id < 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto clip = deft::text::ClipTokenizer::load(kText / "clip");
  static const auto siglip = deft::text::SiglipTokenizer::load(kText / "siglip");
  static const auto gemma = deft::text::GemmaTokenizer::load(kText / "gemma");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  deft::fuzz::expect_refusal_only([&] { check(clip.encode(text), clip.max_length()); });
  deft::fuzz::expect_refusal_only([&] { check(siglip.encode(text), siglip.max_length()); });
  deft::fuzz::expect_refusal_only([&] { check(gemma.encode(text), 64); });
  return 0;
}
