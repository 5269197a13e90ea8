// The safetensors reader: header JSON, tensor table (dtypes, shapes, offsets tiling the data
// buffer), and the values of every tensor widened to float32 as the encoders load them.
#include "fuzz_support.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const auto path = deft::fuzz::write_input("model.safetensors", data, size);
  deft::fuzz::expect_refusal_only([&] {
    const deft::model::SafetensorsFile file(path);
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
