#include "kernels/onednn_linear.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include <cpuid.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "common/error.h"
#include "kernels/matmul_primitives.h"
#include "kernels/onednn_engine.h"

namespace deft::kernels {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

Type type_of(Precision p) {
  return p == Precision::kF32 ? Type::f32 : Type::bf16;
}

dnnl::algorithm algorithm_of(Epilogue e) {
  switch (e) {
    case Epilogue::kGeluTanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case Epilogue::kGeluErf:
      return dnnl::algorithm::eltwise_gelu_erf;
    case Epilogue::kQuickGelu:
      return dnnl::algorithm::eltwise_swish;  // x · sigmoid(αx), α = 1.702
    case Epilogue::kNone:
      break;
  }
  return dnnl::algorithm::undef;
}

bool cpu_vendor_is_amd() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return false;
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  return std::strcmp(vendor, "AuthenticAMD") == 0;
}

}  // namespace

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

bool cpu_has_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

bool cpu_prefers_bf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  if (isa == dnnl::cpu_isa::avx512_core_amx) return true;
  return isa == dnnl::cpu_isa::avx512_core_bf16 && cpu_vendor_is_amd();
}

const char* onednn_matmul_isa(MatmulInputs inputs) {
  using dnnl::cpu_isa;
  const cpu_isa isa = dnnl::get_effective_cpu_isa();
  const bool amx = isa == cpu_isa::avx512_core_amx;
  const bool avx512 = amx || isa == cpu_isa::avx512_core_bf16 || isa == cpu_isa::avx512_core_vnni ||
                      isa == cpu_isa::avx512_core;
  if (inputs == MatmulInputs::kInt8) {
    if (amx) return "AMX-INT8";
    if (avx512) return isa == cpu_isa::avx512_core ? "AVX-512, no VNNI" : "AVX-512 VNNI";
    return isa == cpu_isa::avx2_vnni ? "AVX-VNNI" : "AVX2 or older, no VNNI";
  }
  if (inputs == MatmulInputs::kBF16) {
    if (amx) return "AMX-BF16";
    return isa == cpu_isa::avx512_core_bf16 ? "AVX512_BF16" : "no native bf16";
  }
  return avx512 ? "AVX-512" : "AVX2 or older";
}

void set_compute_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

struct OnednnLinear::State {
  int in = 0;
  int out = 0;
  Precision precision = Precision::kF32;
  LinearOutput output;
  std::vector<float> scale;  // owned copy of the channel scale
  dnnl::primitive_attr attr;
  memory bias;  // empty when there is none
  memory scale_memory;
  MatmulPrimitives primitives{
      [this](size_t rows, const memory::desc& weights) { return describe(rows, weights); }};

  dnnl::matmul::primitive_desc describe(size_t rows, const memory::desc& weights_desc) const {
    const auto m = static_cast<memory::dim>(rows);
    const memory::desc src({m, in}, type_of(precision), Tag::ab);
    const memory::desc dst({m, out}, type_of(output.output), Tag::ab);
    if (bias) {
      return {dnnl::matmul::desc(src, weights_desc, bias.get_desc(), dst), attr, cpu_engine()};
    }
    return {dnnl::matmul::desc(src, weights_desc, dst), attr, cpu_engine()};
  }
};

OnednnLinear::OnednnLinear(std::span<const float> w, std::span<const float> b, int in, int out,
                           Precision precision, LinearOutput output)
    : state_(std::make_unique<State>()) {
  DEFT_ASSERT(w.size() == static_cast<size_t>(in) * out, "weights are out × in");
  DEFT_ASSERT(!output.accumulate || output.output == Precision::kF32, "accumulate into f32 only");
  State& s = *state_;
  s.in = in;
  s.out = out;
  s.precision = precision;
  s.output = output;
  s.scale.assign(output.channel_scale.begin(), output.channel_scale.end());
  s.output.channel_scale = s.scale;

  dnnl::post_ops ops;
  if (output.activation != Epilogue::kNone) {
    const float alpha = output.activation == Epilogue::kQuickGelu ? 1.702F : 0.0F;
    ops.append_eltwise(1.0F, algorithm_of(output.activation), alpha, 0.0F);
  }
  if (!s.scale.empty()) {
    const memory::desc scale_desc({1, out}, Type::f32, Tag::ab);
    ops.append_binary(dnnl::algorithm::binary_mul, scale_desc);
    s.scale_memory = memory(scale_desc, cpu_engine(), s.scale.data());
  }
  if (output.accumulate) ops.append_sum(1.0F);
  s.attr.set_post_ops(ops);

  if (!b.empty()) {
    s.bias = memory({{1, out}, Type::f32, Tag::ab}, cpu_engine());
    std::memcpy(s.bias.get_data_handle(), b.data(), b.size_bytes());
  }
  // W [out × in] row-major is the matmul's [in × out] weights in "ba" order.
  // The reorder converts to bf16 too.
  s.primitives.set_weights(
      memory({{in, out}, Type::f32, Tag::ba}, cpu_engine(), const_cast<float*>(w.data())),
      memory::desc({in, out}, type_of(precision), Tag::any));
}

OnednnLinear::~OnednnLinear() = default;
OnednnLinear::OnednnLinear(OnednnLinear&&) noexcept = default;
OnednnLinear& OnednnLinear::operator=(OnednnLinear&&) noexcept = default;

int OnednnLinear::in() const {
  return state_->in;
}
int OnednnLinear::out() const {
  return state_->out;
}

namespace {

// Rows per block where rows go to threads in fixed blocks (below): a multiple of every row
// tile of oneDNN's gemm kernels (24 for AVX2, 16 and 8 for older), so that every row goes
// through the same full tile whatever its place in the block; small enough to share a
// CLIP-B/32 image's 50 tokens between 2 threads.
constexpr size_t kRowsPerBlock = 48;

}  // namespace

void OnednnLinear::run(const void* x, size_t rows, void* y, int slot) const {
  const State& s = *state_;
  const dnnl::matmul& matmul = s.primitives.get(rows, slot);
  const auto m = static_cast<memory::dim>(rows);
  memory src({{m, s.in}, type_of(s.precision), Tag::ab}, cpu_engine(), const_cast<void*>(x));
  memory dst({{m, s.out}, type_of(s.output.output), Tag::ab}, cpu_engine(), y);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, s.primitives.weights()}, {DNNL_ARG_DST, dst}};
  if (s.bias) args[DNNL_ARG_BIAS] = s.bias;
  if (s.scale_memory) {
    const int index = s.output.activation != Epilogue::kNone ? 1 : 0;
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1] = s.scale_memory;
  }
  dnnl::stream stream(cpu_engine());
  matmul.execute(stream, args);
  stream.wait();
}

void OnednnLinear::apply(const void* x, size_t rows, void* y) const {
  if (rows == 0) return;
  const State& s = *state_;
  if (!s.primitives.sums_depend_on_threads()) {
    run(x, rows, y, 0);
    return;
  }
  // deft's fp32 vectors depend neither on the thread count (a resumed embed keeps chunks made
  // with other threads) nor on the batch, and oneDNN's gemm-based kernel would make them do
  // both: it splits sums across threads, and small row counts take other code paths. There,
  // the rows go to the threads in blocks of exactly kRowsPerBlock (the last one padded), each
  // multiplied by one thread alone (oneDNN runs single-threaded inside a parallel region):
  // every row gets the same sums whatever the threads and the batch.
  const size_t in_row = static_cast<size_t>(s.in) * element_size(s.precision);
  const size_t out_row = static_cast<size_t>(s.out) * element_size(s.output.output);
  const auto blocks = static_cast<std::ptrdiff_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
  const auto* from = static_cast<const std::byte*>(x);
  auto* to = static_cast<std::byte*>(y);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const size_t first = static_cast<size_t>(b) * kRowsPerBlock;
    const size_t n = std::min(kRowsPerBlock, rows - first);
    const int slot = omp_get_thread_num();
    if (n == kRowsPerBlock) {  // in place (an accumulating output reads y where it writes)
      run(from + first * in_row, n, to + first * out_row, slot);
      continue;
    }
    // The short last block: through padded copies (y's rows too, for an accumulating output).
    std::vector<std::byte> in(kRowsPerBlock * in_row);
    std::vector<std::byte> out(kRowsPerBlock * out_row);
    std::memcpy(in.data(), from + first * in_row, n * in_row);
    std::memcpy(out.data(), to + first * out_row, n * out_row);
    run(in.data(), kRowsPerBlock, out.data(), slot);
    std::memcpy(to + first * out_row, out.data(), n * out_row);
  }
}

void to_bf16(const float* x, size_t n, uint16_t* y) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &x[i], 4);
    if ((bits & 0x7F800000U) == 0x7F800000U && (bits & 0x7FFFFFU) != 0) {
      y[i] = static_cast<uint16_t>((bits >> 16) | 0x40U);  // quiet NaN
    } else {
      bits += 0x7FFFU + ((bits >> 16) & 1U);  // round to nearest, ties to even
      y[i] = static_cast<uint16_t>(bits >> 16);
    }
  }
}

void from_bf16(const uint16_t* x, size_t n, float* y) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(x[i]) << 16;
    std::memcpy(&y[i], &bits, 4);
  }
}

}  // namespace deft::kernels
