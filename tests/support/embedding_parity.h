#pragma once
// One parity check shared by the encoder tests: deft's embeddings of the test images, batched
// and one at a time, against reference embeddings computed by an independent PyTorch
// implementation (tests/data/generate_*.py).

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "model/encoder.h"

namespace deft::testing {

// fp32 parity: max-abs error within 1e-4 of the output's scale (its largest magnitude). The
// reference runs in float64; fp32 accumulation over these widths stays far inside this.
inline constexpr double kRelativeTolerance = 1e-4;
// bf16 parity: the cosine between deft's embedding and the fp32 reference, per image.
inline constexpr double kBf16MinCosine = 0.999;

struct ParityFigures {
  double worst_relative_error = 0;  // max-abs error / output scale, worst image
  double worst_cosine = 1;          // lowest cosine, worst image
};

// Encodes tests/data/tiny/images/NAME.ppm for every NAME of `expected` at batch n and at batch
// 1, checks batch 1 equals batch n bit for bit, and each embedding against `expected` (fp32:
// kRelativeTolerance; bf16: kBf16MinCosine) with gtest expectations naming `label`.
ParityFigures expect_parity(const model::Encoder& encoder,
                            const std::map<std::string, std::vector<double>>& expected, bool bf16,
                            const std::string& label);

}  // namespace deft::testing
