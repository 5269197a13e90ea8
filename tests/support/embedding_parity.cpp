#include "embedding_parity.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include <gtest/gtest.h>

#include "kernels/onednn_linear.h"
#include "ppm.h"
#include "preprocess/image_processor.h"

namespace deft::testing {

ParityFigures expect_parity(const model::Encoder& encoder,
                            const std::map<std::string, std::vector<double>>& expected, bool bf16,
                            const std::string& label) {
  const std::filesystem::path images =
      std::filesystem::path(DEFT_SOURCE_DIR) / "tests/data/tiny/images";
  const preprocess::ProcessorConfig& p = encoder.config().processor;
  const size_t input = 3 * static_cast<size_t>(p.input_height()) * p.input_width();
  const size_t dim = encoder.embedding_dim();
  std::vector<std::string> names;
  std::vector<float> pixels;
  for (const auto& [name, values] : expected) {
    names.push_back(name);
    pixels.resize(names.size() * input);
    preprocess::preprocess_image(read_ppm(images / (name + ".ppm")), p,
                                 &pixels[(names.size() - 1) * input]);
  }
  std::vector<float> batched(names.size() * dim);
  encoder.encode(pixels.data(), names.size(), batched.data());
  if (!bf16) {
    // fp32 vectors do not depend on the thread count either (deft embed keeps finished chunks
    // across a change of threads on that ground): one thread gives the same bits.
    std::vector<float> one_thread(batched.size());
    kernels::set_compute_threads(1);
    encoder.encode(pixels.data(), names.size(), one_thread.data());
    kernels::set_compute_threads(
        static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
    EXPECT_EQ(one_thread, batched)
        << label << ": 1 thread differs from " << std::thread::hardware_concurrency();
  }
  ParityFigures figures;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::vector<double>& want = expected.at(names[i]);
    EXPECT_EQ(want.size(), dim) << label << " / " << names[i];
    if (want.size() != dim) continue;
    double scale = 0.0;
    double worst = 0.0;
    double dot = 0.0;
    double norm_want = 0.0;
    double norm_got = 0.0;
    for (size_t j = 0; j < dim; ++j) {
      const double got = batched[i * dim + j];
      scale = std::max(scale, std::abs(want[j]));
      worst = std::max(worst, std::abs(want[j] - got));
      dot += want[j] * got;
      norm_want += want[j] * want[j];
      norm_got += got * got;
    }
    const double cosine = dot / std::sqrt(norm_want * norm_got);
    figures.worst_relative_error = std::max(figures.worst_relative_error, worst / scale);
    figures.worst_cosine = std::min(figures.worst_cosine, cosine);
    if (bf16) {
      EXPECT_GE(cosine, kBf16MinCosine) << label << " / " << names[i];
    } else {
      EXPECT_LE(worst, kRelativeTolerance * scale) << label << " / " << names[i];
    }
    std::vector<float> single(dim);
    encoder.encode(&pixels[i * input], 1, single.data());
    EXPECT_EQ(single, std::vector<float>(&batched[i * dim], &batched[(i + 1) * dim]))
        << label << " / " << names[i] << ": batch 1 differs from batch " << names.size();
  }
  return figures;
}

}  // namespace deft::testing
