#pragma once
// y = x·Wᵀ + b on oneDNN, for the encoder's hot path. Weights are reordered once, at load,
// into the blocked layout the matmul kernel prefers (brgemm on AVX-512: 90%+ of peak); a
// primitive is created per row count on first use and cached (the layout does not depend on
// the row count, so one weights copy serves all). The epilogue is fused into the matmul:
// activation, then an optional per-channel scale, then an optional accumulate into y (the
// residual connection: y += scale ⊙ act(x·Wᵀ + b)).
//
//   OnednnLinear fc1(w, b, 768, 3072, Precision::kBF16, {.activation = Activation::kGeluTanh,
//                                                        .output = Precision::kBF16});
//   fc1.apply(x_bf16, rows, y_bf16);

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace deft::kernels {

enum class Precision { kF32, kBF16 };

// Bytes per value of an activation in `precision`.
constexpr size_t element_size(Precision precision) {
  return precision == Precision::kF32 ? 4 : 2;
}
enum class Epilogue { kNone, kGeluTanh, kGeluErf, kQuickGelu };

struct LinearOutput {
  Epilogue activation = Epilogue::kNone;
  std::span<const float> channel_scale = {};  // empty: none (DINOv2 layer scale otherwise)
  bool accumulate = false;                    // y += result instead of y = result
  Precision output = Precision::kF32;         // y's type (kBF16 only without accumulate)
};

// True when this CPU runs bf16 matmuls natively (AVX512_BF16 or AMX).
bool cpu_has_bf16();
// True when bf16 matmuls are faster than fp32 ones here, which precision `auto` follows: AMX,
// or AVX512_BF16 on AMD (Zen 4 issues VDPBF16PS at twice the fp32 FMA rate). Intel CPUs with
// AVX512_BF16 but no AMX (Cooper Lake; a VM that hides AMX) issue VDPBF16PS on one port: the
// same multiply-adds a cycle as fp32 FMAs, plus the conversions (measured with oneDNN on a
// 2-core Xeon, 2026-12-02: bf16 144 GFLOP/s, fp32 241).
bool cpu_prefers_bf16();
// What a matmul multiplies: the encoder's fp32 or bf16 activations, or the search's int8
// candidates (u8 × s8).
enum class MatmulInputs { kF32, kBF16, kInt8 };
// The instructions oneDNN's matmuls of those inputs run on here, in words: "AMX-INT8",
// "AVX-512 VNNI" … for int8, "AMX-BF16", "AVX512_BF16" … for bf16, "AVX-512" … for fp32.
const char* onednn_matmul_isa(MatmulInputs inputs);
// Sets the threads oneDNN (OpenMP) uses; 0 keeps the default (all cores).
void set_compute_threads(int threads);

class OnednnLinear {
 public:
  // w: [out × in] (PyTorch layout), b: [out] or empty. Inputs are bf16 when `precision` is kBF16.
  OnednnLinear(std::span<const float> w, std::span<const float> b, int in, int out,
               Precision precision, LinearOutput output = {});
  ~OnednnLinear();
  OnednnLinear(OnednnLinear&&) noexcept;
  OnednnLinear& operator=(OnednnLinear&&) noexcept;

  int in() const;
  int out() const;
  // x: rows × in (float, or uint16_t bf16), y: rows × out (per LinearOutput::output).
  void apply(const void* x, size_t rows, void* y) const;

 private:
  // One matmul of `rows` rows by the primitive copy `slot`.
  void run(const void* x, size_t rows, void* y, int slot) const;

  struct State;
  std::unique_ptr<State> state_;
};

// bf16 conversions (round to nearest even), for activations entering a bf16 matmul.
void to_bf16(const float* x, size_t n, uint16_t* y);
void from_bf16(const uint16_t* x, size_t n, float* y);

}  // namespace deft::kernels
