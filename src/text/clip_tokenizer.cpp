#include "text/clip_tokenizer.h"

#include <array>

#include <fmt/format.h>

#include "common/error.h"
#include "text/unicode_text.h"

namespace deft::text {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStart = "<|startoftext|>";
constexpr std::string_view kEnd = "<|endoftext|>";

bool starts_with(std::u32string_view text, size_t at, std::string_view ascii) {
  if (text.size() - at < ascii.size()) return false;
  for (size_t i = 0; i < ascii.size(); ++i)
    if (text[at + i] != static_cast<char32_t>(ascii[i])) return false;
  return true;
}

// The pattern is case-insensitive; after lower-casing only ſ (U+017F, which folds to s) can
// still match a contraction's letter other than itself.
bool letter_is(char32_t c, char32_t lower) {
  return c == lower || (lower == U's' && c == 0x17F);
}

// The length of a contraction at `at` ('s 't 're 've 'm 'll 'd), 0 if none.
size_t contraction(std::u32string_view t, size_t at) {
  if (t[at] != U'\'' || at + 1 >= t.size()) return 0;
  const char32_t a = t[at + 1];
  for (char32_t one : {U's', U't', U'm', U'd'})
    if (letter_is(a, one)) return 2;
  if (at + 2 >= t.size()) return 0;
  const char32_t b = t[at + 2];
  const std::array<std::array<char32_t, 2>, 3> twos = {{{U'r', U'e'}, {U'v', U'e'}, {U'l', U'l'}}};
  for (const auto& two : twos)
    if (letter_is(a, two[0]) && letter_is(b, two[1])) return 3;
  return 0;
}

}  // namespace

std::u32string clip_normalize(std::string_view utf8) {
  const std::u32string composed = nfc(decode_utf8(utf8));
  std::u32string spaced;
  spaced.reserve(composed.size());
  for (char32_t c : composed) {
    if (is_space(c)) {
      if (spaced.empty() || spaced.back() != U' ') spaced.push_back(U' ');
      continue;
    }
    spaced.push_back(c);
  }
  return lower_each(spaced);
}

std::vector<std::string> clip_words(std::u32string_view t) {
  std::vector<std::string> words;
  const auto other = [](char32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); };
  for (size_t i = 0; i < t.size();) {
    size_t n = 0;
    if (starts_with(t, i, kStart)) {
      n = kStart.size();
    } else if (starts_with(t, i, kEnd)) {
      n = kEnd.size();
    } else if ((n = contraction(t, i)) > 0) {
    } else if (is_letter(t[i])) {
      while (i + n < t.size() && is_letter(t[i + n]))
        ++n;
    } else if (is_number(t[i])) {
      n = 1;
    } else if (other(t[i])) {
      while (i + n < t.size() && other(t[i + n]))
        ++n;
    } else {  // white space separates words and is dropped
      ++i;
      continue;
    }
    words.push_back(encode_utf8(t.substr(i, n)));
    i += n;
  }
  return words;
}

ClipTokenizer ClipTokenizer::load(const fs::path& model_dir, size_t max_length) {
  const fs::path vocab = model_dir / "vocab.json", merges = model_dir / "merges.txt";
  std::error_code ec;
  if (!fs::is_regular_file(vocab, ec) || !fs::is_regular_file(merges, ec)) {
    throw Error(ErrorKind::kInput,
                fmt::format("CLIP's text tokenizer needs vocab.json and merges.txt in '{}' (as "
                            "the hub publishes them beside the weights); looked for '{}' and '{}'",
                            model_dir.string(), vocab.string(), merges.string()));
  }
  ClipTokenizer tok;
  tok.bpe_ = ByteLevelBpe::load(vocab, merges);
  const auto special = [&](std::string_view token) {
    const std::optional<int32_t> id = tok.bpe_.id(std::string(token));
    if (!id)
      throw Error(ErrorKind::kInput,
                  fmt::format("tokenizer file '{}' has no '{}' token", vocab.string(), token));
    return *id;
  };
  tok.start_ = special(kStart);
  tok.end_ = special(kEnd);
  if (max_length < 2)
    throw Error(ErrorKind::kInput, fmt::format("a text length of {} leaves no room for the start "
                                               "and end tokens",
                                               max_length));
  tok.max_length_ = max_length;
  return tok;
}

std::vector<int32_t> ClipTokenizer::content_ids(std::string_view text) const {
  std::vector<int32_t> ids;
  // Literal special tokens first, as the tokenizer's added vocabulary cuts them out.
  size_t at = 0;
  while (at <= text.size()) {
    size_t next = std::string_view::npos;
    std::string_view found;
    for (std::string_view token : {kStart, kEnd}) {
      const size_t p = text.find(token, at);
      if (p < next) {
        next = p;
        found = token;
      }
    }
    const std::string_view stretch =
        text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
    for (const std::string& word : clip_words(clip_normalize(stretch))) {
      const std::vector<int32_t> word_ids = bpe_.encode_word(word, end_);
      ids.insert(ids.end(), word_ids.begin(), word_ids.end());
    }
    if (next == std::string_view::npos) break;
    ids.push_back(found == kStart ? start_ : end_);
    at = next + found.size();
  }
  return ids;
}

std::vector<int32_t> ClipTokenizer::encode(std::string_view text, bool* truncated) const {
  const std::vector<int32_t> content = content_ids(text);
  if (truncated != nullptr) *truncated = content.size() > max_length_ - 2;
  std::vector<int32_t> ids;
  ids.reserve(max_length_);
  ids.push_back(start_);
  const size_t room = max_length_ - 2;
  ids.insert(ids.end(), content.begin(),
             content.begin() + static_cast<std::ptrdiff_t>(std::min(room, content.size())));
  ids.push_back(end_);
  ids.resize(max_length_, end_);
  return ids;
}

}  // namespace deft::text
