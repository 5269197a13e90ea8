#pragma once
// A decoded image: 8-bit RGB, interleaved, row-major (pixel (x, y) at data[3 * (y * width + x)]).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace deft::preprocess {

// Leaves new bytes uninitialised: decoders and resizers write every pixel, and zero-filling a
// 1024×768 photo first costs 2% of its decode and resize time.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  explicit UninitializedAllocator(const UninitializedAllocator<U>& /*other*/) {}
  template <typename U>
  void construct(U* /*p*/) noexcept {}
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t, UninitializedAllocator<uint8_t>> data;  // every byte is written

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), data(static_cast<size_t>(w) * h * 3) {}
  uint8_t* row(int y) { return data.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return data.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace deft::preprocess
