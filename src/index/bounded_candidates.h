#pragma once
// Which pool rows could be among a target's n nearest, found from approximate inner products
// (oneDNN matmul, the targets packed once into the kernel's layout) with a proven error bound,
// so that only those rows need the exact (double) distance. ExactSearch re-scores them: the
// result is the n nearest by exact_distance, ties to the earlier row, whatever the
// approximation did — the precision changes the speed, never the result.
//
//   BoundedCandidates scorer(Metric::kEuclidean, targets, count, dim);
//   scorer.find(chunk, rows, worst, missing, hits);    // hits: (target, row in chunk), sorted
//
// Two precisions (ScorePrecision), picked at run time:
// - kInt8 where the CPU multiplies bytes natively (VNNI, AMX-INT8: ~4× the fp32 rate on these
//   machines): every row scaled to 8 bits (index/int8_rows.h), the product exact in int32,
//   and the bound |q·p − ŝ| ≤ |a·w|·|e| + |r|·|b·v| + |r|·|e| from each row's measured
//   rounding, taken at the chunk's largest |e| and |b·v|; ŝ's own float rounding (≤ 5u|ŝ|,
//   |ŝ| ≤ |a·w|·|b·v|) is added. The rows this keeps are checked again in fp32 (the bound
//   below, ~100× tighter), a target at a time, before any goes to the double re-score.
// - kF32 elsewhere, below.
// DEFT_SEARCH_PRECISION=fp32|int8 forces one (tests run both on one machine).
//
// The fp32 bound. For float vectors q, p of dimension d, any fp32 summation order with or without
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
#include <string>
#include <vector>

#include "index/candidate_finder.h"
#include "index/int8_rows.h"
#include "index/metric.h"
#include "index/score_precision.h"
#include "kernels/int8_product.h"
#include "kernels/onednn_linear.h"

namespace deft::index {

class BoundedCandidates : public CandidateFinder {
 public:
  // Pool rows scored per matmul (kPoolChunk), and targets per packed chunk. 2048 × 512 measured
  // fastest on the 2-core Xeon (10k × 200k × 768: against 256 × 2048, 1024 × 512, 2048 × 1024, 4096
  // × 256): the matmul keeps its peak, and the rows that pass the int8 bound are checked in fp32
  // against a target's vector read once per 2,048 pool rows, not once per 256 (the targets'
  // vectors, 30 MB for 10k, were re-read from memory for every chunk).
  static constexpr size_t kTargetChunk = 512;

  // `targets`: count × dim floats, as the search compares them (normalised for cosine); kept
  // by reference.
  BoundedCandidates(Metric metric, const float* targets, size_t count, size_t dim,
                    ScorePrecision precision = default_score_precision());

  ScorePrecision precision() const { return precision_; }

  using Hit = CandidateHit;
  void find(const float* vectors, size_t rows, const std::vector<double>& worst,
            const std::vector<size_t>& missing, std::vector<Hit>& hits) override;
  std::string kernel() const override;

 private:
  // The chunk's rows against target chunk `chunk`: ŝ into scores_ (fp32), or the int8
  // products into products_ (rows × its targets).
  void score(size_t chunk, const float* vectors, size_t rows);
  // ŝ of row i against the chunk's target j, as the scan computes it.
  float score_at(size_t t0, size_t mt, size_t i, size_t j) const;
  // The bound on |key − exact key| for target t against this chunk, in key units.
  double bound(ScorePrecision precision, size_t t, double pmax, double max_sq) const;
  // The scan's hits for targets t0… (thread_hits_, target relative to t0) appended to `hits`
  // by (target, row), after the fp32 re-check where refine_threshold_ asks for one.
  void collect(size_t t0, size_t mt, const float* vectors, std::vector<Hit>& hits);

  Metric metric_;
  ScorePrecision precision_;
  size_t dim_;
  size_t count_;
  const float* targets_;                       // count × dim, the caller's (kept by reference)
  double gamma_;                               // γ_d
  std::vector<double> norms_;                  // |q| per target
  std::vector<kernels::OnednnLinear> packed_;  // kF32: per chunk of kTargetChunk targets
  // kInt8: the targets as bytes (w, a, |r|, |a·w|), packed per chunk, and the pool chunk's.
  Int8Rows targets_int8_;
  std::vector<float> target_scale_;  // a per target, as float for the conversion
  std::vector<int32_t> offsets_;     // 128·Σw per target: what the u8 offset adds
  std::vector<kernels::Int8Product> packed_int8_;
  Int8Rows chunk_int8_;
  double chunk_residual_ = 0;      // the chunk's largest |e|
  double chunk_norm_ = 0;          // and |b·v|
  std::vector<int32_t> products_;  // kInt8: kPoolChunk × kTargetChunk
  std::vector<float> scores_;      // kPoolChunk × kTargetChunk
  std::vector<float> keys_;        // the metric's float key terms per pool row
  std::vector<float> threshold_;   // per target of the chunk
  // kInt8: the fp32 re-check's rule per target of the chunk, in key units.
  static constexpr size_t kKeepAll = std::numeric_limits<size_t>::max();
  struct Refine {
    double limit = 0;    // the worst so far raised by fp32's bound (−inf while none)
    size_t missing = 0;  // how many the target lacks; kKeepAll: no re-check
    double raise = 0;    // twice fp32's bound
  };
  std::vector<Refine> refine_;
  std::vector<std::vector<Hit>> thread_hits_;
  std::vector<size_t> target_start_;  // collect's buckets
  std::vector<Hit> by_target_;
  std::vector<size_t> kept_;
};

}  // namespace deft::index
