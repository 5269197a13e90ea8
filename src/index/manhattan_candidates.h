#pragma once
// Manhattan candidates from fp32 sums with a proven bound (CandidateFinder). Each term
// |q_k − p_k| is a float subtraction (relative error ≤ u) and the d non-negative terms are
// summed in any order, so the fp32 distance ŝ and the real distance s satisfy
// |ŝ − s| ≤ γ_d·s, γ_d = d·u/(1 − d·u), u = 2⁻²⁴ (Higham §3.1; all terms ≥ 0, so the bound is
// relative to s itself), plus d subnormal steps when the terms underflow. exact_distance sums
// in double, |s_double − s| ≤ γ'_d·s with u' = 2⁻⁵³. So
//   s_double ≥ ŝ·(1 − γ'_d)/(1 + γ_d)  and  s_double ≤ ŝ·(1 + γ'_d)/(1 − γ_d),
// and a row is a candidate when its lower bound could reach the target's threshold: its n-th
// best so far, or — while it lacks `missing` — the larger of that and the `missing`-th smallest
// upper bound in the chunk. A sum that overflows to infinity is always a candidate.
//
// The sums run on AVX-512 (4 targets × 4 rows per register tile) where the CPU has it, else
// on the portable loop; DEFT_SEARCH_ISA=portable forces the latter (tests run both).

#include <cstddef>
#include <string>
#include <vector>

#include "index/candidate_finder.h"

namespace deft::index {

class ManhattanCandidates : public CandidateFinder {
 public:
  // `targets`: count × dim floats, kept by reference.
  ManhattanCandidates(const float* targets, size_t count, size_t dim);

  void find(const float* vectors, size_t rows, const std::vector<double>& worst,
            const std::vector<size_t>& missing, std::vector<CandidateHit>& hits) override;
  std::string kernel() const override;

  // Targets whose sums one task computes against a chunk.
  static constexpr size_t kTargetGroup = 32;

 private:
  const float* targets_;
  size_t count_;
  size_t dim_;
  bool portable_;
  double lower_;  // ŝ × lower_ ≤ s_double
  double upper_;  // s_double ≤ ŝ × upper_ + absolute_
  double absolute_;
  std::vector<std::vector<CandidateHit>> group_hits_;
};

}  // namespace deft::index
