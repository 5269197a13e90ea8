#include "model/encoder.h"

#include <cstdlib>

#include "common/error.h"
#include "model/families.h"

namespace deft::model {

ComputeOptions resolve_compute(const EncoderOptions& options) {
  ComputeOptions compute;
  compute.reference = options.reference_kernels;
  const bool bf16 = options.precision == Precision::kBF16 ||
                    (options.precision == Precision::kAuto && kernels::cpu_prefers_bf16());
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

std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& folder, Family family,
                                      const EncoderOptions& options) {
  const ComputeOptions compute = resolve_compute(options);
  std::filesystem::path dump_directory = options.dump_directory;
  if (dump_directory.empty()) {
    // Read while loading, on the caller's thread, before any worker thread starts.
    if (const char* env = std::getenv("DEFT_DUMP_ACTIVATIONS")) dump_directory = env;  // NOLINT
  }
  const char* detail = std::getenv("DEFT_DUMP_INTERMEDIATES");  // NOLINT
  const ActivationDump dump(dump_directory, options.dump_intermediates ||
                                                (detail != nullptr && std::string(detail) == "1"));
  ModelConfig config = load_model_config(folder, family);
  const Checkpoint checkpoint(folder);
  return family_row(family).build(checkpoint, std::move(config), compute, dump);
}

}  // namespace deft::model
