#pragma once
// y = x·Wᵀ in exact integer arithmetic: unsigned 8-bit rows x against signed 8-bit weights W,
// int32 out, on oneDNN (VNNI on AVX-512 machines, AMX-INT8 where present: ~4× the fp32
// matmul's rate). Exact only with VNNI or AMX-INT8 (cpu_has_int8_dot): without them oneDNN
// sums u8 × s8 pairs in saturating int16 (vpmaddubsw), found by the index tests under
// ONEDNN_MAX_CPU_ISA=AVX2 and AVX512_CORE. W is reordered once
// into the kernel's layout; a primitive per row count is made on first use and cached.
// Products of 8-bit values summed in int32 are exact while in × 255 × 128 < 2³¹ (in < 65,793).
//
//   Int8Product product(w_s8, /*in=*/768, /*out=*/2048);
//   product.apply(x_u8, rows, y_s32);   // y: rows × out

#include <cstddef>
#include <cstdint>
#include <memory>

namespace deft::kernels {

// True when this CPU multiplies 8-bit values natively (AVX-512 VNNI, AVX-VNNI or AMX-INT8).
bool cpu_has_int8_dot();

class Int8Product {
 public:
  // w: [out × in] signed bytes, row-major (one row per output).
  Int8Product(const int8_t* w, int in, int out);
  ~Int8Product();
  Int8Product(Int8Product&&) noexcept;
  Int8Product& operator=(Int8Product&&) noexcept;

  int in() const;
  int out() const;
  // x: rows × in unsigned bytes; y: rows × out.
  void apply(const uint8_t* x, size_t rows, int32_t* y) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace deft::kernels
