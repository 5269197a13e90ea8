#pragma once
// UTF-8 text as the tokenizers see it: code points, Unicode normalisation, lower case, and the
// general categories their pre-tokenizing patterns test (\p{L}, \p{N}, \s). ICU underneath
// (Debian's libicu), so the tables are one Unicode version for every rule.
//
//   std::u32string s = text::decode_utf8("Σίσυφος  café");
//   s = text::lower_each(text::nfc(s));          // per code point, no final-sigma context
//   if (text::is_letter(s[0])) ...

#include <string>
#include <string_view>

namespace deft::text {

// Invalid UTF-8 becomes U+FFFD, one per maximal invalid subsequence (what Python's
// bytes.decode(errors="replace") gives).
std::u32string decode_utf8(std::string_view bytes);
std::string encode_utf8(std::u32string_view text);

std::u32string nfc(std::u32string_view text);
std::u32string nfkc(std::u32string_view text);
// Each code point's full lower-case mapping on its own (İ → i̇, Σ → σ anywhere): what Rust's
// char::to_lowercase and Python's per-character str.lower() give; not the context-aware
// final-sigma rule of a whole-string lower().
std::u32string lower_each(std::u32string_view text);
// The same with the whole string's context (Python's str.lower(): a word-final Σ → ς).
std::u32string lower_string(std::u32string_view text);

bool is_letter(char32_t c);       // \p{L}: Lu Ll Lt Lm Lo
bool is_number(char32_t c);       // \p{N}: Nd Nl No
bool is_space(char32_t c);        // \s: the White_Space property
bool is_punctuation(char32_t c);  // \p{P}
// Python's str.isspace(): category Zs, or bidirectional class WS, B or S (so U+001C–U+001F
// too, which \s of the Rust and ICU engines leave out).
bool is_python_space(char32_t c);

}  // namespace deft::text
