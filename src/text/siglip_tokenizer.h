#pragma once
// SigLIP's text tokenizer as transformers' SiglipTokenizer runs it (AutoTokenizer and
// SiglipProcessor give this one for google/siglip-*), on the checkpoint's spiece.model through
// Debian's libsentencepiece:
//   1. "▁" + the text with every "▁" made a space; lower case one code point at a time, the
//      special tokens "</s>" and "<unk>" left as they are;
//   2. split on those special tokens, white space beside them stripped;
//   3. each stretch: ASCII punctuation removed, white-space runs → one space, stripped (Python's
//      white space), then encoded as "<unk>" + stretch with SentencePiece's dummy prefix turned
//      off (the leading "<unk>" pieces cut): the first stretch keeps the "▁" of step 1;
//   4. a lone leading "▁" before a special token dropped; "</s>" appended unless the ids end in
//      it; the content truncated to max_length − 1; padded with "</s>" to max_length (64).
//
//   SiglipTokenizer tok = SiglipTokenizer::load(model_dir);   // throws Error(kInput)
//   std::vector<int32_t> ids = tok.encode("a photo of a cat");   // 64 ids

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace deft::text {

class SiglipTokenizer {
 public:
  static SiglipTokenizer load(const std::filesystem::path& model_dir, size_t max_length = 64);
  SiglipTokenizer(SiglipTokenizer&&) noexcept;
  SiglipTokenizer& operator=(SiglipTokenizer&&) noexcept;
  ~SiglipTokenizer();

  // Steps 1–3 and the first of 4: the pieces, special tokens included.
  std::vector<std::string> pieces(std::string_view text) const;
  // `truncated`, when given: whether the content was cut to fit.
  std::vector<int32_t> encode(std::string_view text, bool* truncated = nullptr) const;

  int32_t end_id() const { return end_; }
  size_t max_length() const { return max_length_; }

 private:
  SiglipTokenizer();
  std::vector<std::string> stretch_pieces(std::u32string_view stretch) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  size_t unk_length_ = 0;  // the pieces "<unk>" encodes to
  int32_t end_ = 1;
  size_t max_length_ = 64;
};

}  // namespace deft::text
