#pragma once
// SigLIP2's text tokenizer: Gemma's SentencePiece model (tokenizer.model) through Debian's
// libsentencepiece, as transformers' GemmaTokenizer encodes with SigLIP2's conversion settings:
// the text lower-cased one code point at a time first (SigLIP2 was trained on lower-cased text;
// transformers v5's Siglip2Tokenizer lower-cases in its normaliser, the older GemmaTokenizer
// leaves it to the caller), the model's own normalisation (Gemma's: none, no dummy prefix, byte
// fallback), no <bos>, <eos> appended after the content truncated to max_length − 1, padded
// with <pad> (id 0) to max_length (64). The tower pools the last position: a pad for short
// texts.
//
//   GemmaTokenizer tok = GemmaTokenizer::load(model_dir);   // throws Error(kInput)
//   std::vector<int32_t> ids = tok.encode("a photo of a cat");   // 64 ids

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace deft::text {

class GemmaTokenizer {
 public:
  static GemmaTokenizer load(const std::filesystem::path& model_dir, size_t max_length = 64);
  GemmaTokenizer(GemmaTokenizer&&) noexcept;
  GemmaTokenizer& operator=(GemmaTokenizer&&) noexcept;
  ~GemmaTokenizer();

  // The content's ids, untruncated, without <eos>.
  std::vector<int32_t> content_ids(std::string_view text) const;
  // `truncated`, when given: whether the content was cut to fit.
  std::vector<int32_t> encode(std::string_view text, bool* truncated = nullptr) const;

  int32_t end_id() const { return end_; }
  size_t max_length() const { return max_length_; }

 private:
  GemmaTokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  int32_t end_ = 1, pad_ = 0;
  size_t max_length_ = 64;
};

}  // namespace deft::text
