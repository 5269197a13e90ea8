#include "model/torch_file.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "model/torch_pickle.h"
#include "model/zip_archive.h"

namespace deft::model {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void invalid(const fs::path& path, const std::string& problem) {
  throw Error(ErrorKind::kInput, fmt::format("'{}': {}", path.string(), problem),
              "check that the download completed, or convert the checkpoint to safetensors");
}

// The archive's folder: torch.save names every record "<folder>/…" after data.pkl's folder.
std::string record_prefix(const ZipArchive& zip, const fs::path& path) {
  for (const auto& [name, data] : zip.entries()) {
    if (name.ends_with("/data.pkl") && name.find('/') == name.size() - 9) {
      return name.substr(0, name.size() - 8);
    }
  }
  invalid(path, "the zip holds no <folder>/data.pkl: not a torch.save checkpoint");
}

// Elements a (size, stride) view reaches past its offset, plus one; 0 for an empty tensor.
// Throws on negative sizes or strides and on overflow.
int64_t extent(const PickledTensor& t, const fs::path& path) {
  if (t.size.size() != t.stride.size())
    invalid(path, fmt::format("tensor '{}' has {} sizes but {} strides", t.name, t.size.size(),
                              t.stride.size()));
  int64_t last = 0;
  for (size_t i = 0; i < t.size.size(); ++i) {
    if (t.size[i] < 0 || t.stride[i] < 0)
      invalid(path, fmt::format("tensor '{}' has a negative size or stride", t.name));
    if (t.size[i] == 0) return 0;
    if (t.size[i] - 1 > (int64_t{1} << 40) / std::max<int64_t>(t.stride[i], 1))
      invalid(path, fmt::format("tensor '{}' is implausibly large", t.name));
    last += (t.size[i] - 1) * t.stride[i];
  }
  return last + 1;
}

bool contiguous(const PickledTensor& t) {
  int64_t expected = 1;
  for (size_t i = t.size.size(); i-- > 0;) {
    if (t.size[i] != 1 && t.stride[i] != expected) return false;
    expected *= t.size[i];
  }
  return true;
}

}  // namespace

TorchFile::TorchFile(const fs::path& path) : file_(path) {
  const std::span<const std::byte> bytes = file_.bytes();
  if (!looks_like_zip(bytes)) {
    const bool legacy = bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x80;
    invalid(path, legacy ? "this is PyTorch's legacy (pre-1.6) serialization, which deft does not "
                           "read; re-save it with a current torch.save or as safetensors"
                         : "not a PyTorch zip checkpoint");
  }
  const ZipArchive zip(bytes, path);
  const std::string prefix = record_prefix(zip, path);
  if (const auto* order = zip.find(prefix + "byteorder")) {
    const std::string text(reinterpret_cast<const char*>(order->data()), order->size());
    if (text != "little")
      invalid(path, fmt::format("byte order '{}' (deft reads little-endian)", text));
  }
  for (PickledTensor& t : read_state_dict_pickle(*zip.find(prefix + "data.pkl"), path)) {
    const auto* record = zip.find(prefix + "data/" + t.storage_key);
    if (record == nullptr)
      invalid(path, fmt::format("tensor '{}' needs storage record 'data/{}', which is missing",
                                t.name, t.storage_key));
    const size_t element = dtype_size(t.dtype);
    if (static_cast<uint64_t>(t.storage_numel) > record->size() / element) {
      invalid(path, fmt::format("tensor '{}': its storage claims {} elements but record 'data/{}' "
                                "holds {} bytes",
                                t.name, t.storage_numel, t.storage_key, record->size()));
    }
    const int64_t reach = extent(t, path);
    if (t.offset < 0 || (reach > 0 && t.offset > t.storage_numel - reach)) {
      invalid(path, fmt::format("tensor '{}' (offset {}, size [{}], stride [{}]) reaches past its "
                                "storage of {} elements",
                                t.name, t.offset, fmt::join(t.size, ", "),
                                fmt::join(t.stride, ", "), t.storage_numel));
    }
    Tensor tensor{t.name, t.dtype, t.size, {}, path};
    const size_t count = static_cast<size_t>(tensor.numel());
    const std::byte* base = record->data() + static_cast<size_t>(t.offset) * element;
    if (contiguous(t)) {
      tensor.data = {base, count * element};
    } else {
      std::vector<std::byte>& copy = copies_.emplace_back(count * element);
      std::vector<int64_t> index(t.size.size(), 0);
      for (size_t n = 0; n < count; ++n) {
        int64_t source = 0;
        for (size_t d = 0; d < index.size(); ++d)
          source += index[d] * t.stride[d];
        std::memcpy(copy.data() + n * element, base + static_cast<size_t>(source) * element,
                    element);
        for (size_t d = index.size(); d-- > 0;) {
          if (++index[d] < t.size[d]) break;
          index[d] = 0;
        }
      }
      tensor.data = copy;
    }
    if (!tensors_.emplace(t.name, std::move(tensor)).second)
      invalid(path, fmt::format("tensor '{}' appears twice", t.name));
  }
}

}  // namespace deft::model
