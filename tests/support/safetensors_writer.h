#pragma once
// Writes small, valid F32 safetensors files for tests (independent of deft's reader).

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "test_support.h"

namespace deft::testing {

struct F32Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Raw parts: the 8-byte length (the header's, unless `declared_header_bytes` is given), the
// header text, the data bytes.
inline void write_safetensors_raw(const std::filesystem::path& path, const std::string& header,
                                  const std::string& data,
                                  uint64_t declared_header_bytes = UINT64_MAX) {
  const uint64_t n = declared_header_bytes == UINT64_MAX ? header.size() : declared_header_bytes;
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  write_text_file(path, bytes + header + data);
}

inline void write_safetensors(const std::filesystem::path& path,
                              const std::map<std::string, F32Tensor>& tensors) {
  std::string header = "{";
  std::string data;
  for (const auto& [name, t] : tensors) {
    const size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
    header += fmt::format(R"({}"{}": {{"dtype": "F32", "shape": [{}], "data_offsets": [{}, {}]}})",
                          header.size() > 1 ? ", " : "", name, fmt::join(t.shape, ", "), begin,
                          data.size());
  }
  write_safetensors_raw(path, header + "}", data);
}

}  // namespace deft::testing
