#pragma once
// CLIP's text tokenizer as transformers' CLIPTokenizerFast runs it (what AutoTokenizer and
// CLIPProcessor give for the openai/laion checkpoints), from the checkpoint's vocab.json and
// merges.txt:
//   1. literal "<|startoftext|>" / "<|endoftext|>" in the text are those special tokens;
//   2. every other stretch: NFC, each run of white space → one space, lower case one code
//      point at a time (so a word-final Σ becomes σ, not ς: the slow tokenizer differs here,
//      on CJK ideographs and on zero-width characters, which it splits or deletes);
//   3. words by CLIP's pattern ('s 't 're 've 'm 'll 'd, letter runs, single digits, runs of
//      other non-space characters), each byte-level BPE'd (text/byte_level_bpe.h);
//   4. <|startoftext|> + the first max_length − 2 ids + <|endoftext|>, padded with
//      <|endoftext|> to max_length (77).
//
//   ClipTokenizer tok = ClipTokenizer::load(model_dir);   // throws Error(kInput) naming files
//   std::vector<int32_t> ids = tok.encode("wet asphalt at night");   // 77 ids

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "text/byte_level_bpe.h"

namespace deft::text {

// Step 3's words of a text already normalised (step 2), as UTF-8.
std::vector<std::string> clip_words(std::u32string_view normalized);
// Step 2.
std::u32string clip_normalize(std::string_view utf8);

class ClipTokenizer {
 public:
  static ClipTokenizer load(const std::filesystem::path& model_dir, size_t max_length = 77);

  // The content's ids without the start/end tokens, untruncated.
  std::vector<int32_t> content_ids(std::string_view text) const;
  // max_length ids: start, content (truncated), end, padding. `truncated`, when given: whether
  // the content was cut to fit.
  std::vector<int32_t> encode(std::string_view text, bool* truncated = nullptr) const;

  int32_t start_id() const { return start_; }
  int32_t end_id() const { return end_; }
  size_t max_length() const { return max_length_; }
  size_t vocab_size() const { return bpe_.vocab_size(); }

 private:
  ByteLevelBpe bpe_;
  int32_t start_ = 0, end_ = 0;
  size_t max_length_ = 77;
};

}  // namespace deft::text
