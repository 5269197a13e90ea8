#pragma once
// oneDNN matmul primitives by row count over weights reordered once. The kernel picks the
// weights' layout for one row, and that layout does not depend on the row count, so one
// reordered copy serves every primitive; a row count's primitive is made on first use and
// cached (thread-safe). OnednnLinear and Int8Product share it.
//
//   MatmulPrimitives p([this](size_t rows, const memory::desc& w) { return describe(rows, w); });
//   p.set_weights(plain, memory::desc({in, out}, type, Tag::any));
//   p.get(rows).execute(stream, {{DNNL_ARG_WEIGHTS, p.weights()}, ...});

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

namespace deft::kernels {

class MatmulPrimitives {
 public:
  // The primitive for `rows` rows against weights of layout `weights`.
  using Describe =
      std::function<dnnl::matmul::primitive_desc(size_t rows, const dnnl::memory::desc& weights)>;

  explicit MatmulPrimitives(Describe describe) : describe_(std::move(describe)) {}

  // Reorders `plain` (converting its type if need be) into the layout a one-row primitive
  // prefers for `weights_any` (format tag any).
  void set_weights(dnnl::memory plain, const dnnl::memory::desc& weights_any);
  const dnnl::memory& weights() const { return weights_; }
  // `slot`: callers running primitives side by side (one per OpenMP thread) each take their
  // own copy, so that no two threads share one primitive's scratchpad.
  const dnnl::matmul& get(size_t rows, int slot = 0) const;

  // Whether the kernel oneDNN picked is its gemm-based one ("gemm:jit", where AVX-512 is
  // missing), which splits a row's sum over the inputs across threads for some shapes: its
  // results then change with the thread count.
  bool sums_depend_on_threads() const { return gemm_based_; }

 private:
  Describe describe_;
  dnnl::memory weights_;
  mutable std::mutex mutex_;
  bool gemm_based_ = false;
  mutable std::map<std::pair<size_t, int>, dnnl::matmul> primitives_;  // by (rows, slot)
};

}  // namespace deft::kernels
