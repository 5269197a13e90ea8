#pragma once
// The precision the exact search's candidate scores are computed in (index/bounded_candidates.h
// proves a bound for each, then re-scores every candidate in double: the precision changes the
// speed, never the result).

namespace deft::index {

enum class ScorePrecision {
  kF32,   // oneDNN fp32 matmul
  kInt8,  // rows scaled to 8 bits, exact int32 products (VNNI, AMX-INT8)
};

// DEFT_SEARCH_PRECISION when set (fp32 or int8; another value, or int8 on a CPU without
// kernels::cpu_has_int8_dot(), is an Error naming it), else kInt8 where
// kernels::cpu_has_int8_dot(), else kF32. int8 needs VNNI or AMX-INT8: elsewhere oneDNN's u8 × s8
// products go through saturating int16 sums and are not exact.
ScorePrecision default_score_precision();
const char* score_precision_name(ScorePrecision precision);

}  // namespace deft::index
