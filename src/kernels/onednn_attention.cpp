#include "kernels/onednn_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/error.h"
#include "kernels/onednn_engine.h"

namespace deft::kernels {

namespace {

using dnnl::memory;
using Type = memory::data_type;
using Dims = memory::dims;

}  // namespace

struct OnednnAttention::State {
  Precision precision;
  bool causal = false;
  int heads;
  int d;
  int hd;

  struct Plan {
    dnnl::matmul qk, pv;
    dnnl::softmax_v2_forward softmax;
    memory::desc q, k, v, scores, probs, out;
  };
  mutable std::mutex mutex;
  mutable std::map<std::tuple<size_t, size_t, size_t>, Plan> plans;  // by (n, t, row_stride)

  // As many images per call as keep their scores (n × heads × t × t floats) in cache between
  // the three steps: one at a time for SigLIP-B/16 (196 tokens), a whole batch for CLIP-B/32.
  static constexpr size_t kScoreBytesInCache = 1 << 20;  // Zen 4 / Ice Lake L2 per core
  size_t images_per_call(size_t t) const {
    const size_t per_image = static_cast<size_t>(heads) * t * t * sizeof(float);
    return std::max<size_t>(1, kScoreBytesInCache / per_image);
  }

  const Plan& plan(size_t n_, size_t t_, size_t stride_) const {
    std::lock_guard lock(mutex);
    const auto key = std::make_tuple(n_, t_, stride_);
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
    const auto n = static_cast<memory::dim>(n_);
    const auto t = static_cast<memory::dim>(t_);
    const auto stride = static_cast<memory::dim>(stride_);
    const Type type = precision == Precision::kF32 ? Type::f32 : Type::bf16;
    Plan p;
    // [n, heads, t, hd] views of the token rows: strides (t·stride, hd, stride, 1).
    p.q = memory::desc({n, heads, t, hd}, type, Dims{t * stride, hd, stride, 1});
    p.v = p.q;
    // kᵀ: [n, heads, hd, t] over the same rows.
    p.k = memory::desc({n, heads, hd, t}, type, Dims{t * stride, hd, 1, stride});
    p.scores = memory::desc({n, heads, t, t}, Type::f32, Dims{heads * t * t, t * t, t, 1});
    p.probs = memory::desc({n, heads, t, t}, type, Dims{heads * t * t, t * t, t, 1});
    p.out = memory::desc({n, heads, t, hd}, type, Dims{t * d, hd, d, 1});

    dnnl::primitive_attr scaled;
    scaled.set_output_scales(0, {1.0F / std::sqrt(static_cast<float>(hd))});
    p.qk = dnnl::matmul({dnnl::matmul::desc(p.q, p.k, p.scores), scaled, cpu_engine()});
    // Softmax in fp32, written in the matmul's input type (bf16 probabilities for bf16).
    p.softmax = dnnl::softmax_v2_forward(
        {dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::softmax_accurate, p.scores, p.probs, 3),
         cpu_engine()});
    p.pv = dnnl::matmul({dnnl::matmul::desc(p.probs, p.v, p.out), cpu_engine()});
    return plans.emplace(key, std::move(p)).first->second;
  }
};

OnednnAttention::OnednnAttention(Precision precision, int heads, int d, bool causal)
    : state_(std::make_unique<State>()) {
  state_->causal = causal;
  DEFT_ASSERT(heads > 0 && d % heads == 0, "heads divide the width");
  state_->precision = precision;
  state_->heads = heads;
  state_->d = d;
  state_->hd = d / heads;
}

OnednnAttention::~OnednnAttention() = default;
OnednnAttention::OnednnAttention(OnednnAttention&&) noexcept = default;
OnednnAttention& OnednnAttention::operator=(OnednnAttention&&) noexcept = default;

void OnednnAttention::apply(const void* q, const void* k, const void* v, size_t row_stride,
                            size_t n, size_t t, void* out) const {
  if (n == 0 || t == 0) return;
  const State& s = *state_;
  dnnl::engine& engine = cpu_engine();
  const size_t element = element_size(s.precision);
  const size_t in_step = t * row_stride * element;                 // bytes per image, q/k/v
  const size_t out_step = t * static_cast<size_t>(s.d) * element;  // bytes per image, out
  const auto at = [](const void* base, size_t offset) {
    return const_cast<std::byte*>(static_cast<const std::byte*>(base) + offset);
  };
  dnnl::stream stream(engine);
  const size_t chunk = s.images_per_call(t);
  for (size_t first = 0; first < n; first += chunk) {
    const State::Plan& p = s.plan(std::min(chunk, n - first), t, row_stride);
    memory scores(p.scores, engine);
    memory probs = s.precision == Precision::kF32 ? scores : memory(p.probs, engine);
    memory q_mem(p.q, engine, at(q, first * in_step));
    memory k_mem(p.k, engine, at(k, first * in_step));
    memory v_mem(p.v, engine, at(v, first * in_step));
    memory out_mem(p.out, engine, at(out, first * out_step));
    p.qk.execute(stream,
                 {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, k_mem}, {DNNL_ARG_DST, scores}});
    if (s.causal) {
      stream.wait();
      auto* sc = static_cast<float*>(scores.get_data_handle());
      const size_t squares = std::min(chunk, n - first) * static_cast<size_t>(s.heads);
      for (size_t m = 0; m < squares; ++m)
        for (size_t i = 0; i < t; ++i)
          std::fill(sc + m * t * t + i * t + i + 1, sc + (m + 1) * t * t - (t - 1 - i) * t,
                    -std::numeric_limits<float>::infinity());
    }
    p.softmax.execute(stream, {{DNNL_ARG_SRC, scores}, {DNNL_ARG_DST, probs}});
    p.pv.execute(stream,
                 {{DNNL_ARG_SRC, probs}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, out_mem}});
  }
  stream.wait();
}

}  // namespace deft::kernels
