#include "kernels/matmul_primitives.h"

#include <string>

#include "common/error.h"
#include "kernels/onednn_engine.h"

namespace deft::kernels {

void MatmulPrimitives::set_weights(dnnl::memory plain, const dnnl::memory::desc& weights_any) {
  const auto pd = describe_(1, weights_any);
  weights_ = dnnl::memory(pd.weights_desc(), cpu_engine());
  gemm_based_ = std::string(pd.impl_info_str()).rfind("gemm", 0) == 0;
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(plain, weights_).execute(stream, plain, weights_);
  stream.wait();
}

const dnnl::matmul& MatmulPrimitives::get(size_t rows, int slot) const {
  std::lock_guard lock(mutex_);
  auto it = primitives_.find({rows, slot});
  if (it == primitives_.end()) {
    const auto pd = describe_(rows, weights_.get_desc());
    DEFT_ASSERT(pd.weights_desc() == weights_.get_desc(), "one weights layout for every row count");
    it = primitives_.emplace(std::make_pair(rows, slot), dnnl::matmul(pd)).first;
  }
  return it->second;
}

}  // namespace deft::kernels
