#pragma once
// The three distances mining offers, in their own units (what thresholds and reports use):
//   cosine     1 − cos(a, b)           (vectors L2-normalised first; 0 … 2)
//   euclidean  ‖a − b‖₂
//   manhattan  ‖a − b‖₁
//
//   index::Metric m = index::parse_metric("cosine");
//   double d = index::exact_distance(m, a, b, dim);   // a, b already prepared (normalised)

#include <cstddef>
#include <string>
#include <string_view>

namespace deft::index {

enum class Metric { kCosine, kEuclidean, kManhattan };

// Throws Error(kUsage) naming the accepted values.
Metric parse_metric(std::string_view name);
const char* metric_name(Metric metric);

// The reference distance deft reports and ranks by: accumulated in double, element by element in
// order, so it does not depend on how a BLAS kernel blocks the work (or how MPI splits the
// pool). For cosine, `a` and `b` must already be L2-normalised (normalize_rows).
double exact_distance(Metric metric, const float* a, const float* b, size_t dim);
// out[i] = exact_distance(metric, a[i], rows[i], dim) for n pairs, bit for bit: eight pairs at
// a time, each its own sum in the same order (the eight chains overlap in the CPU, where one
// waits on its own latency; no sum is reordered, and plain x86-64 has no FMA to fuse into).
void exact_distances(Metric metric, const float* const* a, const float* const* rows, size_t n,
                     size_t dim, double* out);

// Scales each of `rows` vectors to unit L2 norm (computed in double), on OpenMP's threads for
// large inputs. Returns the index of the first row that cannot be normalised (zero or
// non-finite norm; it is left as it was, the others are normalised), or `rows` when all could.
size_t normalize_rows(float* vectors, size_t rows, size_t dim);

}  // namespace deft::index
