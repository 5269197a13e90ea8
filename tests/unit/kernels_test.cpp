// Every fast kernel against its naive reference on awkward shapes (ncnn / ggml style).
#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "kernels/onednn_linear.h"
#include "kernels/reference.h"
#include "test_support.h"

namespace deft {
namespace {

using kernels::Epilogue;
using kernels::Precision;

std::vector<float> uniform(size_t n, float bound, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-bound, bound);
  std::vector<float> v(n);
  for (float& x : v)
    x = d(rng);
  return v;
}

std::vector<float> rounded_to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> b(v.size());
  std::vector<float> out(v.size());
  kernels::to_bf16(v.data(), v.size(), b.data());
  kernels::from_bf16(b.data(), b.size(), out.data());
  return out;
}

void reference_activation(Epilogue e, float* x, size_t n) {
  if (e == Epilogue::kGeluTanh) kernels::reference::gelu_tanh(x, n);
  if (e == Epilogue::kGeluErf) kernels::reference::gelu_erf(x, n);
  if (e == Epilogue::kQuickGelu) kernels::reference::quick_gelu(x, n);
}

struct Case {
  size_t rows, in, out;
  Epilogue act;
  bool scale_and_accumulate;
  Precision precision;
  bool bf16_output;
};

// fp32, and bf16 where the CPU has it (oneDNN has no bf16 matmul on AVX2 machines: deft
// refuses precision=bf16 there, embed_e2e_test).
std::vector<Precision> precisions_here() {
  if (kernels::cpu_has_bf16()) return {Precision::kF32, Precision::kBF16};
  return {Precision::kF32};
}

TEST(OnednnLinear, MatchesTheReferenceOnAwkwardShapes) {
  std::mt19937 rng(1234);
  std::vector<Case> cases;
  for (Precision p : precisions_here()) {
    for (size_t rows : {1, 13, 127}) {
      for (size_t in : {1, 13, 127}) {
        for (size_t out : {1, 13, 127})
          cases.push_back({rows, in, out, Epilogue::kNone, false, p, false});
      }
    }
    for (Epilogue e : {Epilogue::kGeluTanh, Epilogue::kGeluErf, Epilogue::kQuickGelu}) {
      cases.push_back({13, 127, 13, e, false, p, false});
      cases.push_back({13, 127, 13, e, true, p, false});
    }
    cases.push_back({1, 64, 200, Epilogue::kNone, true, p, false});
  }
  if (kernels::cpu_has_bf16())
    cases.push_back({13, 127, 13, Epilogue::kGeluTanh, false, Precision::kBF16, true});

  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "rows " << c.rows << " in " << c.in << " out " << c.out << " act "
                 << static_cast<int>(c.act) << " scale+acc " << c.scale_and_accumulate << " bf16 "
                 << (c.precision == Precision::kBF16) << " bf16 out " << c.bf16_output);
    // Values in ±100 for x; weights smaller so activations stay in their interesting range.
    std::vector<float> x = uniform(c.rows * c.in, 100.0F, rng);
    std::vector<float> w = uniform(c.out * c.in, 1.0F, rng);
    const std::vector<float> b = uniform(c.out, 10.0F, rng);
    const std::vector<float> scale = uniform(c.out, 2.0F, rng);
    const std::vector<float> start = uniform(c.rows * c.out, 50.0F, rng);
    if (c.precision == Precision::kBF16) {
      x = rounded_to_bf16(x);  // what the kernel sees; the reference then differs only in sums
      w = rounded_to_bf16(w);
    }

    std::vector<float> expected(c.rows * c.out);
    kernels::reference::linear(x.data(), c.rows, c.in, w.data(), b.data(), c.out, expected.data());
    reference_activation(c.act, expected.data(), expected.size());
    if (c.scale_and_accumulate) {
      for (size_t i = 0; i < expected.size(); ++i)
        expected[i] = start[i] + scale[i % c.out] * expected[i];
    }

    kernels::OnednnLinear fast(
        w, b, static_cast<int>(c.in), static_cast<int>(c.out), c.precision,
        {.activation = c.act,
         .channel_scale =
             c.scale_and_accumulate ? std::span<const float>(scale) : std::span<const float>(),
         .accumulate = c.scale_and_accumulate,
         .output = c.bf16_output ? Precision::kBF16 : Precision::kF32});
    std::vector<float> got = start;
    std::vector<uint16_t> x16(x.size());
    kernels::to_bf16(x.data(), x.size(), x16.data());
    const void* input =
        c.precision == Precision::kBF16 ? static_cast<const void*>(x16.data()) : x.data();
    if (c.bf16_output) {
      std::vector<uint16_t> y16(got.size());
      fast.apply(input, c.rows, y16.data());
      kernels::from_bf16(y16.data(), y16.size(), got.data());
    } else {
      fast.apply(input, c.rows, got.data());
    }

    for (size_t r = 0; r < c.rows; ++r) {
      for (size_t o = 0; o < c.out; ++o) {
        // fp32 sums in another order differ by at most K·ε·Σ|x·w| (K ≤ 127: 7.6e-6 of it);
        // 1e-5 of that magnitude, scaled through the epilogue, plus bf16 output rounding (2^-8).
        double magnitude = std::abs(b[o]);
        for (size_t k = 0; k < c.in; ++k)
          magnitude += std::abs(x[r * c.in + k] * w[o * c.in + k]);
        if (c.scale_and_accumulate) magnitude *= std::abs(scale[o]);
        const double e = expected[r * c.out + o];
        const double tolerance =
            1e-5 * 1.2 * magnitude + 1e-6 + (c.bf16_output ? std::abs(e) / 256.0 : 0.0);
        ASSERT_NEAR(got[r * c.out + o], e, tolerance) << "row " << r << " column " << o;
      }
    }
  }
}

TEST(Bf16, ConversionRoundsToNearestEven) {
  const std::vector<float> values = {
      1.0F, 1.00390625F /*tie → even*/, 1.01171875F /*tie → up*/, -2.5F, 3.0e38F, 1e-40F};
  std::vector<uint16_t> bits(values.size());
  kernels::to_bf16(values.data(), values.size(), bits.data());
  EXPECT_EQ(bits[0], 0x3F80);
  EXPECT_EQ(bits[1], 0x3F80);
  EXPECT_EQ(bits[2], 0x3F82);
  EXPECT_EQ(bits[3], 0xC020);
  std::vector<float> back(values.size());
  kernels::from_bf16(bits.data(), bits.size(), back.data());
  EXPECT_EQ(back[3], -2.5F);
}

// precision `auto` follows cpu_prefers_bf16; the rule read independently from /proc/cpuinfo:
// AMX-BF16, or AVX512_BF16 on an AMD CPU.
TEST(CpuFeatures, AutoPrecisionPrefersBf16OnlyWhereItIsTheFasterDtype) {
  const testing::CpuInfo cpu = testing::read_cpuinfo();
  if (cpu.vendor.empty()) GTEST_SKIP() << "no /proc/cpuinfo";
  const bool amd = cpu.vendor.find("AuthenticAMD") != std::string::npos;
  EXPECT_EQ(kernels::cpu_prefers_bf16(), cpu.has("amx_bf16") || (cpu.has("avx512_bf16") && amd))
      << cpu.vendor << ":" << cpu.flags;
  if (kernels::cpu_prefers_bf16()) EXPECT_TRUE(kernels::cpu_has_bf16());
}

}  // namespace
}  // namespace deft

#include "kernels/onednn_attention.h"

namespace deft {
namespace {

TEST(OnednnAttention, MatchesTheReferenceOnAwkwardShapes) {
  std::mt19937 rng(99);
  struct Shape {
    size_t n, t, heads, hd;
    float bound;
  };
  // The last two exceed the kernel's 1 MiB score budget per call: one image per call
  // (12 × 150² floats), and chunks of 2 + 1 images (300² floats each).
  const std::vector<Shape> shapes = {
      {1, 1, 1, 1, 3.0F},     {1, 13, 2, 13, 3.0F},  {3, 13, 1, 64, 3.0F}, {3, 50, 2, 64, 1.0F},
      {2, 17, 3, 13, 100.0F}, {3, 150, 12, 1, 3.0F}, {3, 300, 1, 2, 3.0F}};
  for (Precision precision : precisions_here()) {
    for (const Shape& s : shapes) {
      for (bool fused : {true, false}) {
        SCOPED_TRACE(::testing::Message()
                     << "n " << s.n << " t " << s.t << " heads " << s.heads << " hd " << s.hd
                     << " fused " << fused << " bf16 " << (precision == Precision::kBF16));
        const size_t d = s.heads * s.hd;
        const size_t stride = fused ? 3 * d : d;
        // One buffer per role, or q|k|v interleaved per row as a fused projection leaves them.
        std::vector<float> rows = uniform(s.n * s.t * 3 * d, s.bound, rng);
        if (precision == Precision::kBF16) rows = rounded_to_bf16(rows);
        std::vector<float> q(s.n * s.t * d), k(q.size()), v(q.size());
        for (size_t r = 0; r < s.n * s.t; ++r) {
          for (size_t j = 0; j < d; ++j) {
            q[r * d + j] = rows[r * 3 * d + j];
            k[r * d + j] = rows[r * 3 * d + d + j];
            v[r * d + j] = rows[r * 3 * d + 2 * d + j];
          }
        }
        std::vector<float> expected(q.size());
        for (size_t i = 0; i < s.n; ++i) {
          const size_t o = i * s.t * d;
          kernels::reference::attention(&q[o], s.t, &k[o], &v[o], s.t, d, s.heads, &expected[o]);
        }

        const std::vector<float> layout = fused ? rows : [&] {
          std::vector<float> separate = q;
          separate.insert(separate.end(), k.begin(), k.end());
          separate.insert(separate.end(), v.begin(), v.end());
          return separate;
        }();
        const size_t k_offset = fused ? d : q.size();
        const size_t v_offset = fused ? 2 * d : 2 * q.size();
        kernels::OnednnAttention attention(precision, static_cast<int>(s.heads),
                                           static_cast<int>(d));
        std::vector<float> got(q.size());
        if (precision == Precision::kF32) {
          attention.apply(layout.data(), layout.data() + k_offset, layout.data() + v_offset, stride,
                          s.n, s.t, got.data());
        } else {
          std::vector<uint16_t> in16(layout.size());
          std::vector<uint16_t> out16(got.size());
          kernels::to_bf16(layout.data(), layout.size(), in16.data());
          attention.apply(in16.data(), in16.data() + k_offset, in16.data() + v_offset, stride, s.n,
                          s.t, out16.data());
          kernels::from_bf16(out16.data(), out16.size(), got.data());
        }
        // Outputs are convex combinations of v: error scales with max|v|. fp32: 1e-5 of it;
        // bf16: probabilities and outputs rounded to bf16, 2 × 2^-8 of it.
        const double tolerance = (precision == Precision::kF32 ? 1e-5 : 2.0 / 256) * s.bound;
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], expected[i], tolerance) << i;
      }
    }
  }
}

}  // namespace
}  // namespace deft

#include "kernels/cpu_ops.h"

namespace deft {
namespace {

TEST(LayerNorm, FastMatchesTheReferenceOnAwkwardShapes) {
  std::mt19937 rng(5);
  for (size_t rows : {1, 13, 127}) {
    for (size_t d : {1, 13, 127, 768}) {
      SCOPED_TRACE(::testing::Message() << "rows " << rows << " d " << d);
      // ±100 values plus an offset: the centred second pass must avoid cancellation.
      std::vector<float> x = uniform(rows * d, 100.0F, rng);
      for (float& v : x)
        v += 1000.0F;
      const std::vector<float> w = uniform(d, 2.0F, rng);
      const std::vector<float> b = uniform(d, 1.0F, rng);
      std::vector<float> expected(x.size());
      std::vector<float> got(x.size());
      std::vector<uint16_t> got16(x.size());
      kernels::reference::layer_norm(x.data(), rows, d, w.data(), b.data(), 1e-6F, expected.data());
      kernels::layer_norm(x.data(), rows, d, w.data(), b.data(), 1e-6F, got.data(), nullptr);
      kernels::layer_norm(x.data(), rows, d, w.data(), b.data(), 1e-6F, nullptr, got16.data());
      std::vector<float> widened(x.size());
      kernels::from_bf16(got16.data(), got16.size(), widened.data());
      for (size_t i = 0; i < x.size(); ++i) {
        // Normalised values are O(|w|·few); float statistics vs double: 1e-4 absolute.
        // bf16 output: plus its rounding, 2^-8 relative.
        ASSERT_NEAR(got[i], expected[i], 1e-4 * (1 + std::abs(expected[i]))) << i;
        ASSERT_NEAR(widened[i], expected[i], 1e-4 + std::abs(expected[i]) / 128.0) << i;
      }
    }
  }
}

TEST(SwiGlu, FastMatchesTheReferenceAndTheTextbookFormula) {
  std::mt19937 rng(6);
  for (size_t rows : {1, 13, 127}) {
    for (size_t h : {1, 13, 127}) {
      SCOPED_TRACE(::testing::Message() << "rows " << rows << " h " << h);
      const std::vector<float> x = uniform(rows * 2 * h, 100.0F, rng);
      std::vector<float> expected(rows * h);
      std::vector<float> got(rows * h);
      std::vector<uint16_t> got16(rows * h);
      kernels::reference::swiglu(x.data(), rows, h, expected.data());
      kernels::swiglu(x.data(), rows, h, got.data(), nullptr);
      kernels::swiglu(x.data(), rows, h, nullptr, got16.data());
      std::vector<float> widened(rows * h);
      kernels::from_bf16(got16.data(), got16.size(), widened.data());
      for (size_t r = 0; r < rows; ++r) {
        for (size_t j = 0; j < h; ++j) {
          const size_t i = r * h + j;
          // silu(a)·b written out in double: a / (1 + e^−a) · b.
          const double a = x[r * 2 * h + j];
          const double b = x[r * 2 * h + h + j];
          const double textbook = a / (1.0 + std::exp(-a)) * b;
          ASSERT_NEAR(expected[i], textbook, 1e-6 * (1 + std::abs(textbook))) << i;
          // float exp vs double: a few ulps of values up to 10^4.
          ASSERT_NEAR(got[i], textbook, 1e-5 * (1 + std::abs(textbook))) << i;
          ASSERT_NEAR(widened[i], textbook, 1e-5 + std::abs(textbook) / 128.0) << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace deft
