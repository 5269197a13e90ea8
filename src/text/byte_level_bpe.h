#pragma once
// Byte-level BPE as CLIP's tokenizer runs it (GPT-2's byte alphabet, "</w>" on a word's last
// symbol): a pre-tokenized word's UTF-8 bytes become printable code points, then the merges
// of merges.txt apply lowest rank first, and each final symbol is looked up in vocab.json.
//
//   ByteLevelBpe bpe = ByteLevelBpe::load("vocab.json", "merges.txt");   // throws Error(kInput)
//   std::vector<int32_t> ids = bpe.encode_word("hello");                  // {id of "hello</w>"}

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace deft::text {

// Byte b as GPT-2's printable code point (UTF-8): '!'…'~', '¡'…'¬', '®'…'ÿ' stand for
// themselves, every other byte for U+0100 + its order among them (space → "Ġ").
const std::string& byte_symbol(uint8_t b);

class ByteLevelBpe {
 public:
  // merges.txt: an optional "#version" first line, then "a b" per line, ranked by order.
  static ByteLevelBpe load(const std::filesystem::path& vocab_json,
                           const std::filesystem::path& merges_txt);

  // The symbols of one word after the merges (each ends in "</w>" if it ends the word).
  std::vector<std::string> merge_word(std::string_view utf8_word) const;
  // Their ids; a symbol not in the vocabulary gives `unknown`.
  std::vector<int32_t> encode_word(std::string_view utf8_word, int32_t unknown) const;

  std::optional<int32_t> id(const std::string& token) const;
  size_t vocab_size() const { return vocab_.size(); }
  size_t merges() const { return ranks_.size(); }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<std::string, uint32_t> ranks_;  // "a b" → rank
};

}  // namespace deft::text
