#include "text/siglip_tokenizer.h"

#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include "common/error.h"
#include "text/unicode_text.h"

namespace deft::text {

namespace fs = std::filesystem;

namespace {

constexpr char32_t kUnderline = 0x2581;  // ▁
constexpr std::u32string_view kSpecials[] = {U"</s>", U"<unk>"};

bool ascii_punctuation(char32_t c) {
  return c < 0x80 && ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
                      (c >= '{' && c <= '~'));
}

std::u32string_view strip_left(std::u32string_view s) {
  while (!s.empty() && is_python_space(s.front()))
    s.remove_prefix(1);
  return s;
}
std::u32string_view strip_right(std::u32string_view s) {
  while (!s.empty() && is_python_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// The model as transformers loads it: its normalizer spec merged with add_dummy_prefix=false.
// A second NormalizerSpec (ModelProto field 3) holding only add_dummy_prefix (its field 3,
// varint 0) is merged into the first when the message is parsed, as protobuf merges a repeated
// embedded message: the bytes 0x1A 0x02 0x18 0x00 appended.
std::string without_dummy_prefix(const std::string& serialized) {
  return serialized + std::string("\x1A\x02\x18\x00", 4);
}

}  // namespace

SiglipTokenizer::SiglipTokenizer()
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SiglipTokenizer::SiglipTokenizer(SiglipTokenizer&&) noexcept = default;
SiglipTokenizer& SiglipTokenizer::operator=(SiglipTokenizer&&) noexcept = default;
SiglipTokenizer::~SiglipTokenizer() = default;

SiglipTokenizer SiglipTokenizer::load(const fs::path& model_dir, size_t max_length) {
  const fs::path file = model_dir / "spiece.model";
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::kInput,
                fmt::format("SigLIP's text tokenizer needs spiece.model in '{}' (as the hub "
                            "publishes it beside the weights); looked for '{}'",
                            model_dir.string(), file.string()));
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SiglipTokenizer tok;
  const auto status = tok.sp_->LoadFromSerializedProto(without_dummy_prefix(bytes));
  if (!status.ok()) {
    throw Error(ErrorKind::kInput,
                fmt::format("tokenizer file '{}' is not a SentencePiece model: {}", file.string(),
                            status.ToString()));
  }
  std::vector<std::string> unk;
  (void)tok.sp_->Encode("<unk>", &unk);
  tok.unk_length_ = unk.size();
  tok.end_ = tok.sp_->PieceToId("</s>");
  if (tok.sp_->IdToPiece(tok.end_) != "</s>")
    throw Error(ErrorKind::kInput,
                fmt::format("tokenizer file '{}' has no '</s>' piece", file.string()));
  if (max_length < 1)
    throw Error(ErrorKind::kInput, "a text length of 0 leaves no room for the end token");
  tok.max_length_ = max_length;
  return tok;
}

std::vector<std::string> SiglipTokenizer::stretch_pieces(std::u32string_view stretch) const {
  std::u32string clean;
  for (char32_t c : stretch) {
    if (ascii_punctuation(c)) continue;
    if (is_python_space(c)) {
      if (clean.empty() || clean.back() != U' ') clean.push_back(U' ');
      continue;
    }
    clean.push_back(c);
  }
  const std::u32string_view stripped = strip_left(strip_right(clean));
  std::vector<std::string> pieces;
  (void)sp_->Encode("<unk>" + encode_utf8(stripped), &pieces);
  if (pieces.size() < unk_length_) return pieces;
  return {pieces.begin() + static_cast<std::ptrdiff_t>(unk_length_), pieces.end()};
}

std::vector<std::string> SiglipTokenizer::pieces(std::string_view text) const {
  std::u32string t(1, kUnderline);
  for (char32_t c : decode_utf8(text))
    t.push_back(c == kUnderline ? U' ' : c);
  // Lower case before the split (the special tokens are lower case already, and "</S>" becomes
  // one), then the stretches between special tokens.
  t = lower_each(t);
  std::vector<std::pair<std::u32string, bool>> parts;  // (text, is special)
  size_t at = 0;
  while (true) {
    size_t next = std::u32string::npos;
    std::u32string_view found;
    for (std::u32string_view special : kSpecials) {
      const size_t p = t.find(special, at);
      if (p < next) {
        next = p;
        found = special;
      }
    }
    if (next == std::u32string::npos) {
      parts.emplace_back(std::u32string(t.substr(at)), false);
      break;
    }
    parts.emplace_back(std::u32string(t.substr(at, next - at)), false);
    parts.emplace_back(std::u32string(found), true);
    at = next + found.size();
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].second) {
      out.push_back(encode_utf8(parts[i].first));
      continue;
    }
    std::u32string_view s = parts[i].first;
    if (i > 0) s = strip_left(s);
    if (i + 1 < parts.size()) s = strip_right(s);
    if (s.empty()) continue;
    for (std::string& piece : stretch_pieces(s))
      out.push_back(std::move(piece));
  }
  if (out.size() > 1 && out[0] == "\u2581" && (out[1] == "</s>" || out[1] == "<unk>"))
    out.erase(out.begin());
  return out;
}

std::vector<int32_t> SiglipTokenizer::encode(std::string_view text, bool* truncated) const {
  std::vector<int32_t> ids;
  for (const std::string& piece : pieces(text))
    ids.push_back(sp_->PieceToId(piece));
  if (truncated != nullptr) *truncated = ids.size() > max_length_ - 1;
  if (ids.size() > max_length_ - 1) ids.resize(max_length_ - 1);
  if (ids.empty() || ids.back() != end_) ids.push_back(end_);
  ids.resize(max_length_, end_);
  return ids;
}

}  // namespace deft::text
