// deft's text-tower throughput on a checkpoint, for bench/text_vs_torch.py.
//
//   deft_text_bench --model DIR --family CLIP --precision bf16 --batch 64 --ids ids.i32
//                   --tokens 77 --end 49407 [--reps 5] [--threads 2]
//
// ids.i32: batch × tokens int32 token ids (the peer encodes the same). Prints one JSON object:
// the configuration, the median seconds per batch, texts/s, and the kernel that ran; writes the
// first batch's features to --out when given (the driver checks them against the peer's), and
// which precision `auto` picks on this CPU.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernels/onednn_linear.h"
#include "model/text_encoder.h"

namespace {

using namespace deft;

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2)
    args[std::string(argv[i]).substr(2)] = argv[i + 1];
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  const auto get = [&](const std::string& k, const std::string& fallback) {
    return args.count(k) ? args[k] : fallback;
  };
  kernels::set_compute_threads(std::stoi(get("threads", "2")));
  model::EncoderOptions options;
  options.precision =
      get("precision", "fp32") == "bf16" ? model::Precision::kBF16 : model::Precision::kF32;
  const model::Family family = model::parse_family(get("family", "CLIP"));
  const model::TextEncoder encoder = model::TextEncoder::load(get("model", ""), family, options);
  const size_t batch = std::stoul(get("batch", "64"));
  const size_t tokens = std::stoul(get("tokens", "77"));
  const auto end = static_cast<int32_t>(std::stol(get("end", "0")));
  std::vector<int32_t> ids(batch * tokens);
  std::ifstream in(get("ids", ""), std::ios::binary);
  in.read(reinterpret_cast<char*>(ids.data()), static_cast<std::streamsize>(ids.size() * 4));
  if (!in) {
    std::cerr << "cannot read " << batch * tokens << " ids from " << get("ids", "") << "\n";
    return 1;
  }
  std::vector<float> out = encoder.encode(ids, batch, tokens, end);  // warm-up
  if (args.count("out")) {
    std::ofstream f(args["out"], std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()),
            static_cast<std::streamsize>(out.size() * sizeof(float)));
  }
  const int reps = std::stoi(get("reps", "5"));
  std::vector<double> seconds;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    out = encoder.encode(ids, batch, tokens, end);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::cout << fmt::format(
      "{{\"impl\": \"deft\", \"kernel\": \"{}\", \"batch\": {}, \"tokens\": {}, \"median_s\": "
      "{:.4f}, \"min_s\": {:.4f}, \"max_s\": {:.4f}, \"texts_per_s\": {:.1f}, "
      "\"auto_precision\": \"{}\"}}\n",
      encoder.kernel_name(), batch, tokens, median, seconds.front(), seconds.back(),
      static_cast<double>(batch) / median, kernels::cpu_prefers_bf16() ? "bf16" : "fp32");
  return 0;
}
