#include "kernels/int8_product.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "common/error.h"
#include "kernels/matmul_primitives.h"
#include "kernels/onednn_engine.h"

namespace deft::kernels {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

}  // namespace

bool cpu_has_int8_dot() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx2_vnni:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

struct Int8Product::State {
  int in = 0;
  int out = 0;
  MatmulPrimitives primitives{
      [this](size_t rows, const memory::desc& weights) { return describe(rows, weights); }};

  dnnl::matmul::primitive_desc describe(size_t rows, const memory::desc& weights_desc) const {
    const auto m = static_cast<memory::dim>(rows);
    const memory::desc src({m, in}, Type::u8, Tag::ab);
    const memory::desc dst({m, out}, Type::s32, Tag::ab);
    return {dnnl::matmul::desc(src, weights_desc, dst), cpu_engine()};
  }
};

Int8Product::Int8Product(const int8_t* w, int in, int out) : state_(std::make_unique<State>()) {
  DEFT_ASSERT(in > 0 && in < 65793 && out > 0, "int32 sums of 8-bit products stay exact");
  State& s = *state_;
  s.in = in;
  s.out = out;
  // W [out × in] row-major is the matmul's [in × out] weights in "ba" order.
  s.primitives.set_weights(
      memory({{in, out}, Type::s8, Tag::ba}, cpu_engine(), const_cast<int8_t*>(w)),
      memory::desc({in, out}, Type::s8, Tag::any));
}

Int8Product::~Int8Product() = default;
Int8Product::Int8Product(Int8Product&&) noexcept = default;
Int8Product& Int8Product::operator=(Int8Product&&) noexcept = default;

int Int8Product::in() const {
  return state_->in;
}
int Int8Product::out() const {
  return state_->out;
}

void Int8Product::apply(const uint8_t* x, size_t rows, int32_t* y) const {
  if (rows == 0) return;
  const State& s = *state_;
  const dnnl::matmul& matmul = s.primitives.get(rows);
  const auto m = static_cast<memory::dim>(rows);
  memory src({{m, s.in}, Type::u8, Tag::ab}, cpu_engine(), const_cast<uint8_t*>(x));
  memory dst({{m, s.out}, Type::s32, Tag::ab}, cpu_engine(), y);
  dnnl::stream stream(cpu_engine());
  matmul.execute(
      stream,
      {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, s.primitives.weights()}, {DNNL_ARG_DST, dst}});
  stream.wait();
}

}  // namespace deft::kernels
