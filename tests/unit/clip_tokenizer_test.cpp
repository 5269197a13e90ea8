// CLIP's text tokenizer against the independent Python implementation of transformers'
// CLIPTokenizerFast pipeline (tests/data/clip_bpe_reference.py), on a BPE vocabulary in the
// published vocab.json/merges.txt layout trained by tests/data/generate_text_fixtures.py, and
// 234 strings: captions, contractions, punctuation runs, numbers, every kind of white space,
// accents composed and not, Greek final sigma, CJK, Arabic, Devanagari, emoji with ZWJ and
// skin tones, zero-width characters, literal special tokens, and texts past 77 tokens.
#include "text/clip_tokenizer.h"

#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(DEFT_SOURCE_DIR) / "tests/data/text";

TEST(ClipTokenizer, MatchesTheReferenceOnEveryCase) {
  const text::ClipTokenizer tok = text::ClipTokenizer::load(kData / "clip");
  std::ifstream in(kData / "clip_token_cases.json");
  ASSERT_TRUE(in);
  const nlohmann::json cases = nlohmann::json::parse(in);
  ASSERT_GE(cases.size(), 200U);
  size_t truncated = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"];
    const std::vector<int32_t> got = tok.encode(text);
    EXPECT_EQ(got, want) << "text: " << text;
    truncated += tok.content_ids(text).size() > 75 ? 1 : 0;
  }
  EXPECT_GE(truncated, 4U) << "the cases include texts past 77 tokens";
}

// Hand-checked: the layout's fixed ids (bytes 0–255, bytes + "</w>" 256–511, merges, then the
// special tokens), and what truncation keeps.
TEST(ClipTokenizer, StartEndPaddingAndTruncation) {
  const text::ClipTokenizer tok = text::ClipTokenizer::load(kData / "clip");
  EXPECT_EQ(tok.vocab_size(), 778U);
  EXPECT_EQ(tok.start_id(), 776);
  EXPECT_EQ(tok.end_id(), 777);
  const std::vector<int32_t> empty = tok.encode("");
  ASSERT_EQ(empty.size(), 77U);
  EXPECT_EQ(empty[0], 776);
  for (size_t i = 1; i < 77; ++i)
    EXPECT_EQ(empty[i], 777) << i;
  // "!" is byte 0x21, the first printable symbol: id 0 inside a word, id 256 at its end.
  EXPECT_THAT(tok.content_ids("!"), ::testing::ElementsAre(256));
  std::string long_text;
  for (int i = 0; i < 100; ++i)
    long_text += "7 ";  // one token per digit
  bool cut = false;
  const std::vector<int32_t> ids = tok.encode(long_text, &cut);
  EXPECT_TRUE(cut);
  tok.encode("a short text", &cut);
  EXPECT_FALSE(cut);
  ASSERT_EQ(ids.size(), 77U);
  EXPECT_EQ(ids.front(), 776);
  EXPECT_EQ(ids.back(), 777);  // the end token survives truncation
  EXPECT_EQ(ids[75], ids[1]);
}

TEST(ClipTokenizer, WordsFollowTheClipPattern) {
  const auto words = [](const std::string& s) { return text::clip_words(text::clip_normalize(s)); };
  EXPECT_THAT(words("It's  A  Cat!!"), ::testing::ElementsAre("it", "'s", "a", "cat", "!!"));
  EXPECT_THAT(words("x2024"), ::testing::ElementsAre("x", "2", "0", "2", "4"));
  EXPECT_THAT(words("!'s"), ::testing::ElementsAre("!'", "s"));
  // Per code point: a word-final capital sigma lower-cases to σ (the slow tokenizer gives ς).
  EXPECT_THAT(words("ΟΔΟΣ"), ::testing::ElementsAre("οδοσ"));
  // NFC composes e + U+0301 into é, one letter.
  EXPECT_THAT(words("cafe\u0301"), ::testing::ElementsAre("caf\u00e9"));
}

TEST(ClipTokenizer, AMissingFileIsNamed) {
  testing::ScratchDir dir;
  try {
    text::ClipTokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("vocab.json"));
    EXPECT_THAT(e.what(), HasSubstr("merges.txt"));
  }
}

}  // namespace
}  // namespace deft
