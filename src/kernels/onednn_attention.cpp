#include "kernels/onednn_attention.h"

#include <cmath>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "common/error.h"

namespace deft::kernels {

namespace {

using dnnl::memory;
using Type = memory::data_type;
using Dims = memory::dims;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace

struct OnednnAttention::State {
  Precision precision;
  int heads;
  int d;
  int hd;

  struct Plan {
    memory::desc q, k, v, scores, probs, out;
    dnnl::matmul qk, pv;
    dnnl::softmax_forward softmax;
  };
  mutable std::mutex mutex;
  mutable std::map<std::tuple<size_t, size_t, size_t>, Plan> plans;  // by (n, t, row_stride)

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
    p.softmax = dnnl::softmax_forward(
        {dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, p.scores, 3),
         cpu_engine()});
    p.pv = dnnl::matmul({dnnl::matmul::desc(p.probs, p.v, p.out), cpu_engine()});
    return plans.emplace(key, std::move(p)).first->second;
  }
};

OnednnAttention::OnednnAttention(Precision precision, int heads, int d)
    : state_(std::make_unique<State>()) {
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
  const State::Plan& p = s.plan(n, t, row_stride);
  dnnl::engine& engine = cpu_engine();
  memory q_mem(p.q, engine, const_cast<void*>(q));
  memory k_mem(p.k, engine, const_cast<void*>(k));
  memory v_mem(p.v, engine, const_cast<void*>(v));
  memory out_mem(p.out, engine, out);
  memory scores(p.scores, engine);
  dnnl::stream stream(engine);
  p.qk.execute(stream, {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, k_mem}, {DNNL_ARG_DST, scores}});
  if (s.precision == Precision::kF32) {
    p.softmax.execute(stream, {{DNNL_ARG_SRC, scores}, {DNNL_ARG_DST, scores}});
    p.pv.execute(stream,
                 {{DNNL_ARG_SRC, scores}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, out_mem}});
  } else {
    // Softmax in fp32, its probabilities rounded to bf16 for the second matmul.
    p.softmax.execute(stream, {{DNNL_ARG_SRC, scores}, {DNNL_ARG_DST, scores}});
    memory probs(p.probs, engine);
    dnnl::reorder(scores, probs).execute(stream, scores, probs);
    p.pv.execute(stream,
                 {{DNNL_ARG_SRC, probs}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, out_mem}});
  }
  stream.wait();
}

}  // namespace deft::kernels
