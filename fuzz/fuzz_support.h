#pragma once
// What every fuzzer shares. A fuzzer feeds its input to one of deft's own entry points; the
// refusals deft promises (deft::Error, image::DecodeError) are the expected outcome of bad
// input and are swallowed, and anything else — another exception, a crash, a sanitizer report,
// an allocation over libFuzzer's -malloc_limit_mb, a slow input over -timeout — escapes and
// becomes a finding.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     deft::fuzz::expect_refusal_only([&] { parse(deft::fuzz::write_input("x.json", data, size));
//     }); return 0;
//   }

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/error.h"

namespace deft::model {
class TensorFile;
}

namespace deft::fuzz {

// A folder of this process's own (under TMPDIR, /dev/shm when it exists), removed at exit.
const std::filesystem::path& scratch_dir();

// Writes the bytes to scratch_dir()/name (replacing it) and returns the path: the parsers
// under test read files, as deft does.
std::filesystem::path write_input(std::string_view name, const uint8_t* data, size_t size);
std::filesystem::path write_input(std::string_view name, std::string_view bytes);

// Sends deft's log to nowhere (warnings about odd input are expected by the thousand).
void silence_log();

// Every tensor of a checkpoint file widened to float32, as the encoders load them: each is
// refused (an unsupported dtype) or has exactly numel() values.
void widen_every_tensor(const deft::model::TensorFile& file);

template <typename F>
void expect_refusal_only(F&& run) {
  try {
    run();
  } catch (const deft::Error&) {
    // a clear refusal: the outcome bad input must get
  }
}

}  // namespace deft::fuzz
