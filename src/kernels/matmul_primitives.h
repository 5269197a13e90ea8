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
  const dnnl::matmul& get(size_t rows) const;

 private:
  Describe describe_;
  dnnl::memory weights_;
  mutable std::mutex mutex_;
  mutable std::map<size_t, dnnl::matmul> primitives_;
};

}  // namespace deft::kernels
