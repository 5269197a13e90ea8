// SigLIP's text tokenizer against the independent Python implementation of transformers'
// SiglipTokenizer (tests/data/siglip_spm_reference.py, on Debian's python3-sentencepiece), with
// a Unigram spiece.model in SigLIP's layout (<pad> 0, </s> 1, <unk> 2; nmt_nfkc) trained by
// tests/data/generate_text_fixtures.py, on the CLIP cases' 234 strings and 10 more around the
// special tokens and "▁".
#include "text/siglip_tokenizer.h"

#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "test_support.h"
#include "text/gemma_tokenizer.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kData = fs::path(DEFT_SOURCE_DIR) / "tests/data/text";

TEST(SiglipTokenizer, MatchesTheReferenceOnEveryCase) {
  const text::SiglipTokenizer tok = text::SiglipTokenizer::load(kData / "siglip");
  std::ifstream in(kData / "siglip_token_cases.json");
  ASSERT_TRUE(in);
  const nlohmann::json cases = nlohmann::json::parse(in);
  ASSERT_GE(cases.size(), 240U);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"];
    EXPECT_EQ(tok.encode(text), want) << "text: " << text;
  }
}

// Hand-checked: the end token closes the text, pads it to 64, and survives truncation; special
// tokens in the text are theirs (lower-cased first, white space beside them stripped).
TEST(SiglipTokenizer, EndTokenPaddingAndSpecialTokens) {
  const text::SiglipTokenizer tok = text::SiglipTokenizer::load(kData / "siglip");
  EXPECT_EQ(tok.end_id(), 1);
  const std::vector<int32_t> empty = tok.encode("");
  ASSERT_EQ(empty.size(), 64U);
  for (int32_t id : empty)
    EXPECT_EQ(id, 1);
  EXPECT_THAT(tok.pieces("x </S> y"), ::testing::Contains("</s>"));
  EXPECT_THAT(tok.pieces("<unk>"), ElementsAre("<unk>"));
  std::string long_text;
  for (int i = 0; i < 200; ++i)
    long_text += "photo ";
  const std::vector<int32_t> ids = tok.encode(long_text);
  ASSERT_EQ(ids.size(), 64U);
  EXPECT_EQ(ids[63], 1);
  EXPECT_NE(ids[62], 1);
}

TEST(SiglipTokenizer, AMissingModelIsNamed) {
  testing::ScratchDir dir;
  try {
    text::SiglipTokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("spiece.model"));
  }
  testing::write_text_file(dir / "spiece.model", "not a model");
  try {
    text::SiglipTokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("not a SentencePiece model"));
  }
}

// SigLIP2's Gemma tokenizer against tests/data/gemma_spm_reference.py (python3-sentencepiece)
// on a BPE model in Gemma's layout (<pad> 0, <eos> 1, <bos> 2, <unk> 3, byte fallback), the
// same 234 strings: lower-cased, no <bos>, <eos>, padded with <pad> to 64.
TEST(GemmaTokenizer, MatchesTheReferenceOnEveryCase) {
  const text::GemmaTokenizer tok = text::GemmaTokenizer::load(kData / "gemma");
  EXPECT_EQ(tok.end_id(), 1);
  std::ifstream in(kData / "gemma_token_cases.json");
  ASSERT_TRUE(in);
  const nlohmann::json cases = nlohmann::json::parse(in);
  ASSERT_GE(cases.size(), 200U);
  size_t fallback = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"];
    EXPECT_EQ(tok.encode(text), want) << "text: " << text;
    for (int32_t id : want)
      fallback += id >= 4 && id < 4 + 256 ? 1 : 0;  // the byte pieces <0x00>…<0xFF>
  }
  EXPECT_GT(fallback, 0U) << "the cases reach the byte fallback (characters outside the model)";
}

}  // namespace
}  // namespace deft
