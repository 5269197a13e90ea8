// deft_decode_bench: read + decode + preprocess (SigLIP's resize to 224×224, rescale,
// normalise) of image files on one thread, as `deft embed`'s decode workers do it. Prints one
// JSON row: images/s per core, for bench/embed_vs_pillow.py to compare with Pillow.
//
//   deft_decode_bench [--size 224] [--shrink-on-load 0|1] [--reps 3] FILE...
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "embed/image_file.h"
#include "image/decode.h"
#include "preprocess/image_processor.h"

int main(int argc, char** argv) {
  using namespace deft;
  int size = 224;
  bool shrink = false;
  int reps = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size" && i + 1 < argc) {
      size = std::stoi(argv[++i]);
    } else if (a == "--shrink-on-load" && i + 1 < argc) {
      shrink = std::string(argv[++i]) == "1";
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::stoi(argv[++i]);
    } else if (a.starts_with("--")) {
      std::cerr << "usage: deft_decode_bench [--size 224] [--shrink-on-load 0|1] [--reps 3] "
                   "FILE...\n";
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return 2;
  preprocess::ProcessorConfig processor;
  processor.height = processor.width = size;
  image::DecodeOptions options;
  if (shrink) options.target_width = options.target_height = size;
  std::vector<float> input(static_cast<size_t>(3) * size * size);
  double best = 1e30;
  double checksum = 0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& f : files) {
      const embed::FileRead read = embed::read_image_file(f);
      if (!read.failure.empty()) {
        std::cerr << f << ": " << read.failure << "\n";
        return 1;
      }
      const preprocess::RgbImage rgb = image::decode_image(read.bytes, options);
      preprocess::preprocess_image(rgb, processor, input.data());
      checksum += input[0];
    }
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::cout << fmt::format(
      "{{\"impl\": \"deft\", \"shrink_on_load\": {}, \"images\": {}, \"seconds\": {:.4f}, "
      "\"img_per_s\": {:.2f}, \"checksum\": {:.4f}}}\n",
      shrink ? "true" : "false", files.size(), best, static_cast<double>(files.size()) / best,
      checksum);
  return 0;
}
