#include "text/byte_level_bpe.h"

#include <array>
#include <fstream>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_values.h"
#include "text/unicode_text.h"

namespace deft::text {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& what) {
  throw Error(ErrorKind::kInput, fmt::format("tokenizer file '{}': {}", file.string(), what));
}

std::array<std::string, 256> make_byte_symbols() {
  std::array<std::string, 256> symbols;
  const auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = printable(b) ? static_cast<char32_t>(b) : next++;
    symbols[static_cast<size_t>(b)] = encode_utf8(std::u32string(1, c));
  }
  return symbols;
}

// The UTF-8 sequences of a string's code points (a symbol per code point).
std::vector<std::string> code_points(std::string_view utf8) {
  std::vector<std::string> out;
  for (size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<uint8_t>(utf8[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.emplace_back(utf8.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

const std::string& byte_symbol(uint8_t b) {
  static const std::array<std::string, 256> symbols = make_byte_symbols();
  return symbols[b];
}

ByteLevelBpe ByteLevelBpe::load(const fs::path& vocab_json, const fs::path& merges_txt) {
  ByteLevelBpe bpe;
  {
    std::ifstream in(vocab_json, std::ios::binary);
    if (!in) refuse(vocab_json, "cannot be read");
    nlohmann::json vocab;
    try {
      vocab = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      refuse(vocab_json, fmt::format("not valid JSON: {}", e.what()));
    }
    if (!vocab.is_object()) refuse(vocab_json, "must map each token to its id");
    for (const auto& [token, id] : vocab.items()) {
      const std::optional<int64_t> n = id.is_number_float() ? std::nullopt : whole_number(id);
      if (!n || *n < 0 || *n > std::numeric_limits<int32_t>::max()) {
        refuse(vocab_json, fmt::format("the id of {} is {}, not a token id",
                                       json_excerpt(nlohmann::json(token)), json_excerpt(id)));
      }
      bpe.vocab_[token] = static_cast<int32_t>(*n);
    }
  }
  std::ifstream in(merges_txt, std::ios::binary);
  if (!in) refuse(merges_txt, "cannot be read");
  std::string line;
  size_t number = 0;
  uint32_t rank = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1 && line.rfind("#version", 0) == 0) continue;
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      refuse(merges_txt, fmt::format("line {} is '{}', not two symbols", number, line));
    bpe.ranks_[line] = rank++;  // a repeated pair keeps its last rank, as a Python dict would
  }
  return bpe;
}

std::vector<std::string> ByteLevelBpe::merge_word(std::string_view utf8_word) const {
  std::string mapped;
  for (char byte : utf8_word)
    mapped += byte_symbol(static_cast<uint8_t>(byte));
  std::vector<std::string> word = code_points(mapped);
  if (word.empty()) return word;
  word.back() += "</w>";
  // The reference's loop: the lowest-ranked adjacent pair, merged everywhere it occurs left
  // to right (an occurrence overlapping a merged one is not), until no pair has a rank.
  std::string key;
  while (word.size() > 1) {
    uint32_t best = std::numeric_limits<uint32_t>::max();
    size_t at = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      key.assign(word[i]).append(" ").append(word[i + 1]);
      const auto it = ranks_.find(key);
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == std::numeric_limits<uint32_t>::max()) break;
    const std::string first = word[at], second = word[at + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        ++i;
      }
    }
    word = std::move(merged);
  }
  return word;
}

std::vector<int32_t> ByteLevelBpe::encode_word(std::string_view utf8_word, int32_t unknown) const {
  std::vector<int32_t> ids;
  for (const std::string& symbol : merge_word(utf8_word))
    ids.push_back(id(symbol).value_or(unknown));
  return ids;
}

std::optional<int32_t> ByteLevelBpe::id(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

}  // namespace deft::text
