#include "text/unicode_text.h"

#include <vector>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "common/error.h"

namespace deft::text {

namespace {

std::u16string to_utf16(std::u32string_view text) {
  std::u16string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c >= 0x10000) {
      out.push_back(static_cast<char16_t>(U16_LEAD(c)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    } else {
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

std::u32string from_utf16(const char16_t* text, int32_t length) {
  std::u32string out;
  out.reserve(static_cast<size_t>(length));
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U16_NEXT(text, i, length, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

// ICU calls that fill a UTF-16 buffer: sized once by a preflight when the first try is short.
template <typename Fill>
std::u16string filled(int32_t guess, Fill fill) {
  std::u16string out(static_cast<size_t>(std::max(guess, 1)), u'\0');
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = fill(out.data(), static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out.assign(static_cast<size_t>(length), u'\0');
    status = U_ZERO_ERROR;
    length = fill(out.data(), static_cast<int32_t>(out.size()), &status);
  }
  DEFT_ASSERT(U_SUCCESS(status), "ICU text transforms succeed on valid UTF-16");
  out.resize(static_cast<size_t>(length));
  return out;
}

std::u32string normalized(std::u32string_view text, const UNormalizer2* (*instance)(UErrorCode*)) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* form = instance(&status);
  DEFT_ASSERT(U_SUCCESS(status), "ICU's normalisation data is built in");
  const std::u16string in = to_utf16(text);
  const std::u16string out =
      filled(static_cast<int32_t>(in.size()) * 2 + 8,
             [&](char16_t* dest, int32_t capacity, UErrorCode* error) {
               return unorm2_normalize(form, in.data(), static_cast<int32_t>(in.size()), dest,
                                       capacity, error);
             });
  return from_utf16(out.data(), static_cast<int32_t>(out.size()));
}

std::u16string lowered(const std::u16string& in) {
  return filled(static_cast<int32_t>(in.size()) * 2 + 8, [&](char16_t* dest, int32_t capacity,
                                                             UErrorCode* error) {
    return u_strToLower(dest, capacity, in.data(), static_cast<int32_t>(in.size()), "", error);
  });
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const auto length = static_cast<int32_t>(bytes.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT_OR_FFFD(s, i, length, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    uint8_t buffer[4];
    int32_t n = 0;
    UBool error = false;
    U8_APPEND(buffer, n, 4, static_cast<UChar32>(c), error);
    if (error) {  // a lone surrogate or out of range: U+FFFD
      n = 0;
      U8_APPEND_UNSAFE(buffer, n, 0xFFFD);
    }
    out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  return normalized(text, unorm2_getNFCInstance);
}
std::u32string nfkc(std::u32string_view text) {
  return normalized(text, unorm2_getNFKCInstance);
}

std::u32string lower_each(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
      continue;
    }
    const std::u16string one = to_utf16(std::u32string_view(&c, 1));
    const std::u16string low = lowered(one);
    const std::u32string back = from_utf16(low.data(), static_cast<int32_t>(low.size()));
    out += back;
  }
  return out;
}

std::u32string lower_string(std::u32string_view text) {
  const std::u16string low = lowered(to_utf16(text));
  return from_utf16(low.data(), static_cast<int32_t>(low.size()));
}

bool is_letter(char32_t c) {
  const int8_t t = u_charType(static_cast<UChar32>(c));
  return t == U_UPPERCASE_LETTER || t == U_LOWERCASE_LETTER || t == U_TITLECASE_LETTER ||
         t == U_MODIFIER_LETTER || t == U_OTHER_LETTER;
}

bool is_number(char32_t c) {
  const int8_t t = u_charType(static_cast<UChar32>(c));
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool is_space(char32_t c) {
  return u_isUWhiteSpace(static_cast<UChar32>(c)) != 0;
}

bool is_punctuation(char32_t c) {
  return u_ispunct(static_cast<UChar32>(c)) != 0;
}

bool is_python_space(char32_t c) {
  const auto code = static_cast<UChar32>(c);
  if (u_charType(code) == U_SPACE_SEPARATOR) return true;
  const UCharDirection d = u_charDirection(code);
  return d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

}  // namespace deft::text
