#include "model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace deft::model {
namespace {

using nlohmann::json;

struct DTypeInfo {
  const char* name;
  DType dtype;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {"F64", DType::kF64, 8},   {"F32", DType::kF32, 4}, {"F16", DType::kF16, 2},
    {"BF16", DType::kBF16, 2}, {"I64", DType::kI64, 8}, {"I32", DType::kI32, 4},
    {"I16", DType::kI16, 2},   {"I8", DType::kI8, 1},   {"U8", DType::kU8, 1},
    {"BOOL", DType::kBool, 1},
};

const DTypeInfo& info_of(DType dtype) {
  for (const DTypeInfo& i : kDTypes) {
    if (i.dtype == dtype) return i;
  }
  DEFT_ASSERT(false, "every DType has an entry");
}

// Throws the format's error for `file`, about `what` (a tensor, or the header).
[[noreturn]] void invalid(const std::filesystem::path& file, const std::string& problem) {
  throw Error(ErrorKind::kInput,
              fmt::format("safetensors '{}' is malformed: {}", file.string(), problem),
              "re-export the checkpoint with safetensors, or check that the download completed");
}

uint64_t read_u64_le(const std::byte* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

}  // namespace

const char* dtype_name(DType dtype) {
  return info_of(dtype).name;
}
size_t dtype_size(DType dtype) {
  return info_of(dtype).size;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;  // validated not to overflow when the file was opened
  return n;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(path) {
  const std::span<const std::byte> bytes = file_.bytes();
  if (bytes.size() < 8)
    invalid(path, fmt::format("the file has {} bytes, fewer than the 8-byte header length",
                              bytes.size()));
  const uint64_t header_bytes = read_u64_le(bytes.data());
  if (header_bytes > kMaxHeaderBytes) {
    invalid(path, fmt::format("header length {} exceeds the format's limit of {} bytes",
                              header_bytes, kMaxHeaderBytes));
  }
  if (header_bytes > bytes.size() - 8) {
    invalid(path, fmt::format("header length {} runs past the end of the {}-byte file (truncated?)",
                              header_bytes, bytes.size()));
  }
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  const std::span<const std::byte> buffer = bytes.subspan(8 + header_bytes);

  // nlohmann::json keeps the last of duplicate keys silently; the format forbids duplicates.
  std::set<std::string> names;
  std::string duplicate;
  const auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!names.insert(key).second) duplicate = key;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(header_begin, header_begin + header_bytes, on_event);
  } catch (const json::exception& e) {
    invalid(path, fmt::format("the header is not valid JSON ({})", e.what()));
  }
  if (!header.is_object()) invalid(path, "the header is not a JSON object");
  if (!duplicate.empty()) invalid(path, fmt::format("tensor '{}' appears twice", duplicate));

  std::vector<std::tuple<uint64_t, uint64_t, std::string>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) invalid(path, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          invalid(path, fmt::format("__metadata__ '{}' is not a string", key));
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string& tensor_name = name;  // lambdas cannot capture structured bindings
    const auto bad = [&](const std::string& problem) {
      invalid(path, fmt::format("tensor '{}': {}", tensor_name, problem));
    };
    if (!entry.is_object()) bad("its entry is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || shape_it == entry.end() || offsets_it == entry.end()) {
      bad("dtype, shape and data_offsets are all required");
    }
    if (!dtype_it->is_string()) bad("dtype is not a string");
    const std::string dtype_text = dtype_it->get<std::string>();
    const auto known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                    [&](const DTypeInfo& i) { return dtype_text == i.name; });
    if (known == std::end(kDTypes)) bad(fmt::format("unsupported dtype '{}'", dtype_text));

    if (!shape_it->is_array()) bad("shape is not a list");
    Tensor tensor{name, known->dtype, {}, {}, path};
    uint64_t numel = 1;
    for (const json& d : *shape_it) {
      if (!d.is_number_unsigned()) bad("shape holds something other than non-negative integers");
      const uint64_t extent = d.get<uint64_t>();
      if (__builtin_mul_overflow(numel, extent, &numel) || extent > INT64_MAX) {
        bad("its shape overflows");
      }
      tensor.shape.push_back(static_cast<int64_t>(extent));
    }
    uint64_t expected_bytes = 0;
    if (__builtin_mul_overflow(numel, known->size, &expected_bytes)) bad("its size overflows");

    if (!offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
      bad("data_offsets is not a pair of non-negative integers");
    }
    const uint64_t begin = (*offsets_it)[0].get<uint64_t>();
    const uint64_t end = (*offsets_it)[1].get<uint64_t>();
    if (begin > end) bad(fmt::format("data_offsets [{}, {}] end before they begin", begin, end));
    if (end > buffer.size()) {
      bad(fmt::format("data_offsets [{}, {}] run past the {}-byte data buffer (truncated file?)",
                      begin, end, buffer.size()));
    }
    if (end - begin != expected_bytes) {
      bad(fmt::format("{} bytes for shape [{}] of {} ({} values × {} bytes), expected {}",
                      end - begin, fmt::join(tensor.shape, ", "), known->name, numel, known->size,
                      expected_bytes));
    }
    tensor.data = buffer.subspan(begin, end - begin);
    ranges.emplace_back(begin, end, name);
    tensors_.emplace(name, std::move(tensor));
  }

  // The tensors tile the data buffer exactly: no holes, no overlaps.
  std::sort(ranges.begin(), ranges.end());
  uint64_t cursor = 0;
  for (const auto& [begin, end, name] : ranges) {
    if (begin < cursor)
      invalid(path, fmt::format("tensor '{}' overlaps the tensor before it", name));
    if (begin > cursor) {
      invalid(path, fmt::format("bytes {}..{} of the data buffer belong to no tensor (before '{}')",
                                cursor, begin, name));
    }
    cursor = end;
  }
  if (cursor != buffer.size()) {
    invalid(path, fmt::format("the data buffer has {} bytes but the tensors cover {}",
                              buffer.size(), cursor));
  }
}

const Tensor* TensorFile::find(const std::string& name) const {
  const auto it = tensors().find(name);
  return it == tensors().end() ? nullptr : &it->second;
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000U) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1FU;
  uint32_t mantissa = bits & 0x3FFU;
  uint32_t out = 0;
  if (exponent == 0x1F) {  // inf / nan
    out = sign | 0x7F800000U | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: renormalise
    uint32_t e = 113;
    while ((mantissa & 0x400U) == 0) {
      mantissa <<= 1;
      --e;
    }
    out = sign | (e << 23) | ((mantissa & 0x3FFU) << 13);
  } else {
    out = sign;  // ±0
  }
  float value = 0;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

float bf16_to_f32(uint16_t bits) {
  const uint32_t out = static_cast<uint32_t>(bits) << 16;
  float value = 0;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

std::vector<float> to_f32(const Tensor& tensor) {
  const size_t n = static_cast<size_t>(tensor.numel());
  std::vector<float> out(n);
  const std::byte* src = tensor.data.data();
  switch (tensor.dtype) {
    case DType::kF32:
      // The mapping need not be aligned. An empty tensor's data may be null: no copy.
      if (n > 0) std::memcpy(out.data(), src, n * sizeof(float));
      return out;
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits = 0;
        std::memcpy(&bits, src + 2 * i, 2);
        out[i] = tensor.dtype == DType::kF16 ? f16_to_f32(bits) : bf16_to_f32(bits);
      }
      return out;
    default:
      throw Error(ErrorKind::kInput,
                  fmt::format("tensor '{}' in '{}' is {}; weights must be F32, F16 or BF16",
                              tensor.name, tensor.file.string(), dtype_name(tensor.dtype)));
  }
}

}  // namespace deft::model
