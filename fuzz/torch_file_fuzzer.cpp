// pytorch_model.bin: the zip container (records, local headers, zip64), the restricted
// unpickler on its data.pkl, and each tensor's view of its storage record.
#include "fuzz_support.h"
#include "model/torch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const auto path = deft::fuzz::write_input("pytorch_model.bin", data, size);
  deft::fuzz::expect_refusal_only([&] {
    const deft::model::TorchFile file(path);
    for (const auto& entry : file.tensors()) {
      const deft::model::Tensor& tensor = entry.second;  // clang 14: no binding in a lambda
      deft::fuzz::expect_refusal_only([&] {
        const std::vector<float> values = deft::model::to_f32(tensor);
        if (values.size() != static_cast<size_t>(tensor.numel())) __builtin_trap();
      });
    }
  });
  return 0;
}
