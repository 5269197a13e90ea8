// The safetensors reader: values read exactly, every malformation refused with a clear error.
#include "model/safetensors.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "safetensors_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

void write_raw(const fs::path& path, const std::string& header, const std::string& data,
               uint64_t declared_header_bytes = UINT64_MAX) {
  testing::write_safetensors_raw(path, header, data, declared_header_bytes);
}

template <typename T>
std::string bytes_of(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

std::string error_of(const fs::path& path) {
  try {
    model::SafetensorsFile file(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return {};
}

TEST(Safetensors, ReadsEveryTensorAndTheMetadata) {
  testing::ScratchDir dir;
  const std::string data = bytes_of<float>({1.5F, -2.0F, 0.25F, 3.0F, 1e-3F, 7.0F}) +
                           bytes_of<uint16_t>({0x3C00, 0xC100, 0x7BFF, 0x0001}) +  // F16
                           bytes_of<uint16_t>({0x3F80, 0xC0A0}) +                  // BF16
                           bytes_of<int64_t>({0, 1, 2});
  // Offsets given out of order and a space-padded header, both allowed by the format.
  const std::string header =
      R"({"__metadata__": {"format": "pt"},)"
      R"( "b.f16": {"dtype": "F16", "shape": [2, 2], "data_offsets": [24, 32]},)"
      R"( "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},)"
      R"( "c.bf16": {"dtype": "BF16", "shape": [2], "data_offsets": [32, 36]},)"
      R"( "position_ids": {"dtype": "I64", "shape": [1, 3], "data_offsets": [36, 60]}}      )";
  write_raw(dir / "m.safetensors", header, data);

  model::SafetensorsFile file(dir / "m.safetensors");
  EXPECT_EQ(file.tensors().size(), 4U);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const model::Tensor& a = *file.find("a.weight");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(model::to_f32(a), (std::vector<float>{1.5F, -2.0F, 0.25F, 3.0F, 1e-3F, 7.0F}));
  // IEEE half: 1, -2.5, the largest finite 65504, the smallest subnormal 2^-24.
  EXPECT_EQ(model::to_f32(*file.find("b.f16")),
            (std::vector<float>{1.0F, -2.5F, 65504.0F, std::ldexp(1.0F, -24)}));
  EXPECT_EQ(model::to_f32(*file.find("c.bf16")), (std::vector<float>{1.0F, -5.0F}));
  EXPECT_EQ(file.find("missing"), nullptr);
  EXPECT_THAT(
      [&] {
        try {
          model::to_f32(*file.find("position_ids"));
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      HasSubstr("tensor 'position_ids' in '" + (dir / "m.safetensors").string() + "' is I64"));
}

TEST(Safetensors, HalfConversionMatchesTheCompilerOnEveryBitPattern) {
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    _Float16 half;
    const auto b = static_cast<uint16_t>(bits);
    std::memcpy(&half, &b, 2);
    const float expected = static_cast<float>(half);
    const float got = model::f16_to_f32(b);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(got)) << bits;
    } else {
      uint32_t e = 0;
      uint32_t g = 0;
      std::memcpy(&e, &expected, 4);
      std::memcpy(&g, &got, 4);
      ASSERT_EQ(g, e) << "bits 0x" << std::hex << bits;  // exact, signed zeros included
    }
  }
}

TEST(Safetensors, MalformedFilesAreRefusedWithTheReason) {
  testing::ScratchDir dir;
  const std::string four_floats = bytes_of<float>({1, 2, 3, 4});
  const auto entry = [](const char* name, const char* dtype, const char* shape, int begin,
                        int end) {
    return fmt::format(R"("{}": {{"dtype": "{}", "shape": {}, "data_offsets": [{}, {}]}})", name,
                       dtype, shape, begin, end);
  };
  struct Case {
    std::string name;
    std::string header;
    std::string data;
    std::string message;
    uint64_t declared = UINT64_MAX;
  };
  const std::vector<Case> cases = {
      {"truncated", "{" + entry("w", "F32", "[4]", 0, 16) + "}", four_floats.substr(0, 10),
       "tensor 'w': data_offsets [0, 16] run past the 10-byte data buffer"},
      {"header_past_end", "{}", "", "header length 4096 runs past the end", 4096},
      {"huge_header", "{}", "", "exceeds the format's limit of 100000000 bytes", 200'000'000},
      {"wrong_dtype_size", "{" + entry("w", "F32", "[2, 2]", 0, 8) + "}", four_floats.substr(0, 8),
       "tensor 'w': 8 bytes for shape [2, 2] of F32 (4 values × 4 bytes), expected 16"},
      {"begin_after_end", "{" + entry("w", "F32", "[0]", 16, 0) + "}", four_floats,
       "data_offsets [16, 0] end before they begin"},
      {"overlap",
       "{" + entry("a", "F32", "[3]", 0, 12) + ", " + entry("b", "F32", "[2]", 8, 16) + "}",
       four_floats, "tensor 'b' overlaps the tensor before it"},
      {"hole", "{" + entry("a", "F32", "[2]", 0, 8) + ", " + entry("b", "F32", "[1]", 12, 16) + "}",
       four_floats, "bytes 8..12 of the data buffer belong to no tensor (before 'b')"},
      {"trailing_bytes", "{" + entry("a", "F32", "[2]", 0, 8) + "}", four_floats,
       "the data buffer has 16 bytes but the tensors cover 8"},
      {"duplicate",
       "{" + entry("w", "F32", "[2]", 0, 8) + ", " + entry("w", "F32", "[2]", 8, 16) + "}",
       four_floats, "tensor 'w' appears twice"},
      {"unknown_dtype", "{" + entry("w", "F8_E4M3", "[16]", 0, 16) + "}", four_floats,
       "tensor 'w': unsupported dtype 'F8_E4M3'"},
      {"shape_overflow", "{" + entry("w", "F32", "[4611686018427387904, 8]", 0, 16) + "}",
       four_floats, "tensor 'w': its shape overflows"},
      {"negative_shape", "{" + entry("w", "F32", "[-4]", 0, 16) + "}", four_floats,
       "shape holds something other than non-negative integers"},
      {"missing_field", R"({"w": {"dtype": "F32", "shape": [4]}})", four_floats,
       "dtype, shape and data_offsets are all required"},
      {"not_json", "{this is not json", four_floats, "the header is not valid JSON"},
      {"not_object", "[1, 2]", "", "the header is not a JSON object"},
      {"bad_metadata", R"({"__metadata__": {"k": 1}})", "", "__metadata__ 'k' is not a string"},
  };
  for (const Case& c : cases) {
    const fs::path path = dir / (c.name + ".safetensors");
    write_raw(path, c.header, c.data, c.declared);
    EXPECT_THAT(error_of(path),
                AllOf(HasSubstr(path.string()), HasSubstr("is malformed"), HasSubstr(c.message)))
        << c.name;
  }

  testing::write_text_file(dir / "short.safetensors", "abc");
  EXPECT_THAT(error_of(dir / "short.safetensors"),
              HasSubstr("fewer than the 8-byte header length"));
  testing::write_text_file(dir / "empty.safetensors", "");
  EXPECT_THAT(error_of(dir / "empty.safetensors"), HasSubstr("is empty"));
  EXPECT_THAT(error_of(dir / "absent.safetensors"), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace deft
