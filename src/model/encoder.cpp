#include "model/encoder.h"

#include "common/error.h"

namespace deft::model {

ComputeOptions resolve_compute(const EncoderOptions& options) {
  ComputeOptions compute;
  compute.reference = options.reference_kernels;
  const bool bf16 = options.precision == Precision::kBF16 ||
                    (options.precision == Precision::kAuto && kernels::cpu_has_bf16());
  if (options.precision == Precision::kBF16 && !kernels::cpu_has_bf16()) {
    throw Error(ErrorKind::kUsage,
                "precision bf16 needs a CPU with AVX512_BF16 or AMX; this one "
                "has neither",
                "use precision=fp32 (or auto)");
  }
  compute.precision =
      bf16 && !compute.reference ? kernels::Precision::kBF16 : kernels::Precision::kF32;
  return compute;
}

const char* compute_dtype_name(const ComputeOptions& compute) {
  return compute.precision == kernels::Precision::kBF16 ? "bf16" : "fp32";
}

std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& folder, Family family,
                                      const EncoderOptions& options) {
  const ComputeOptions compute = resolve_compute(options);
  ModelConfig config = load_model_config(folder, family);
  const Checkpoint checkpoint(folder);
  switch (family) {
    case Family::kSigLIP:
      return make_siglip(checkpoint, std::move(config), compute);
    case Family::kCLIP:
      return make_clip(checkpoint, std::move(config), compute);
    case Family::kDINOv2:
      return make_dinov2(checkpoint, std::move(config), compute);
  }
  return nullptr;
}

}  // namespace deft::model
