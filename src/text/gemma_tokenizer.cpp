#include "text/gemma_tokenizer.h"

#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include "common/error.h"
#include "text/unicode_text.h"

namespace deft::text {

namespace fs = std::filesystem;

GemmaTokenizer::GemmaTokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
GemmaTokenizer::GemmaTokenizer(GemmaTokenizer&&) noexcept = default;
GemmaTokenizer& GemmaTokenizer::operator=(GemmaTokenizer&&) noexcept = default;
GemmaTokenizer::~GemmaTokenizer() = default;

GemmaTokenizer GemmaTokenizer::load(const fs::path& model_dir, size_t max_length) {
  const fs::path file = model_dir / "tokenizer.model";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw Error(ErrorKind::kInput,
                fmt::format("SigLIP2's text tokenizer needs tokenizer.model (Gemma's SentencePiece "
                            "model) in '{}', as the hub publishes it beside the weights; looked "
                            "for '{}'",
                            model_dir.string(), file.string()));
  }
  GemmaTokenizer tok;
  const auto status = tok.sp_->Load(file.string());
  if (!status.ok()) {
    throw Error(ErrorKind::kInput,
                fmt::format("tokenizer file '{}' is not a SentencePiece model: {}", file.string(),
                            status.ToString()));
  }
  const auto piece = [&](const char* name) {
    const int id = tok.sp_->PieceToId(name);
    if (tok.sp_->IdToPiece(id) != name)
      throw Error(ErrorKind::kInput,
                  fmt::format("tokenizer file '{}' has no '{}' piece", file.string(), name));
    return static_cast<int32_t>(id);
  };
  tok.end_ = piece("<eos>");
  tok.pad_ = piece("<pad>");
  if (max_length < 1)
    throw Error(ErrorKind::kInput, "a text length of 0 leaves no room for the end token");
  tok.max_length_ = max_length;
  return tok;
}

std::vector<int32_t> GemmaTokenizer::content_ids(std::string_view text) const {
  std::vector<int> ids;
  (void)sp_->Encode(encode_utf8(lower_each(decode_utf8(text))), &ids);
  return {ids.begin(), ids.end()};
}

std::vector<int32_t> GemmaTokenizer::encode(std::string_view text, bool* truncated) const {
  std::vector<int32_t> ids = content_ids(text);
  if (truncated != nullptr) *truncated = ids.size() > max_length_ - 1;
  if (ids.size() > max_length_ - 1) ids.resize(max_length_ - 1);
  ids.push_back(end_);
  ids.resize(max_length_, pad_);
  return ids;
}

}  // namespace deft::text
