#pragma once
// Which pool rows could be among a target's n nearest, found from fp32 inner products (oneDNN
// matmul, the targets packed once into the kernel's layout) with a proven error bound, so that
// only those rows need the exact (double) distance. ExactSearch re-scores them: the result is
// the n nearest by exact_distance, ties to the earlier row, whatever the fp32 rounding did.
//
//   BoundedCandidates scorer(Metric::kEuclidean, targets, count, dim);
//   scorer.find(chunk, rows, worst, missing, hits);    // hits: (target, row in chunk), sorted
//
// The bound. For float vectors q, p of dimension d, any fp32 summation order with or without
// FMA computes ŝ with |ŝ − q·p| ≤ γ_d Σ|q_k p_k| ≤ γ_d |q| |p|, γ_d = d·u / (1 − d·u),
// u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). Each metric's key
// is monotone in its exact distance: cosine (1 − q·p) keys by −2ŝ; euclidean (|q|² + |p|² −
// 2q·p) keys by |p|² − 2ŝ in float, whose own rounding (of |p|² and of the subtraction) is
// added to the bound. A row is a candidate when its key, lowered by the bound, could still
// reach the target's current n-th best exact distance (`worst`); while a target has fewer than
// n, when it could reach the n-th smallest key of the chunk raised by the bound. Manhattan has
// no inner-product form: it is not handled here.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/metric.h"
#include "kernels/onednn_linear.h"

namespace deft::index {

class BoundedCandidates {
 public:
  // Pool rows scored per matmul, and targets per packed chunk: a 2048 × 2048 score tile
  // (16 MB) keeps the matmul near the machine's fp32 peak on 2 cores.
  static constexpr size_t kPoolChunk = 2048;
  static constexpr size_t kTargetChunk = 2048;

  // `targets`: count × dim floats, as the search compares them (normalised for cosine).
  BoundedCandidates(Metric metric, const float* targets, size_t count, size_t dim);

  struct Hit {
    uint32_t target;
    uint32_t row;  // within the chunk
  };
  // For `rows` ≤ kPoolChunk pool vectors: every (target, row) that could enter the target's n
  // nearest. `worst[t]`: the largest exact distance among the target's best so far (its n-th
  // once it has n; −inf while it has none); `missing[t]`: how many it still lacks (0 once it
  // has n). Hits come sorted by (target, row).
  void find(const float* vectors, size_t rows, const std::vector<double>& worst,
            const std::vector<size_t>& missing, std::vector<Hit>& hits);

 private:
  Metric metric_;
  size_t dim_;
  size_t count_;
  double gamma_;                               // γ_d
  std::vector<double> norms_;                  // |q| per target
  std::vector<kernels::OnednnLinear> packed_;  // per chunk of kTargetChunk targets
  std::vector<float> scores_;                  // kPoolChunk × kTargetChunk
  std::vector<float> keys_;                    // the metric's float key terms per pool row
  std::vector<float> threshold_;               // per target of the chunk
  std::vector<std::vector<Hit>> thread_hits_;
};

}  // namespace deft::index
