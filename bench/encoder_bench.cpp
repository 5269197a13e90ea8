// deft's encoder throughput on a checkpoint, and this machine's matmul peak per dtype.
//
//   deft_encoder_bench --model DIR --family SigLIP --precision bf16 --batch 8 --input x.f32
//                      [--reps 5] [--threads 2]
//   deft_encoder_bench --matmul-peak [--threads 2]
//
// Prints one JSON object per line (configuration, median seconds per batch, spread, images/s,
// GFLOP per image), for bench/encoder_vs_peers.py to compare with the peers it runs alongside.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "kernels/onednn_linear.h"
#include "model/encoder.h"

namespace {

using namespace deft;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) throw std::runtime_error("unexpected argument " + key);
    key = key.substr(2);
    args[key] = (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) ? argv[++i] : "1";
  }
  return args;
}

// Multiply-adds × 2 that one image's embedding needs (matmuls only; they are the cost). The
// embedding of a class-token family (CLIP, DINOv2) reads one row of the last block, so that
// block's queries, output projection and MLP count for one row, not t (keys and values for all
// t): every implementation is measured against the same necessary work, spare work or not.
double gflop_per_image(const model::VisionConfig& c, int input_h, int input_w, size_t embedding) {
  const double p = c.patch_size;
  const double patches = std::floor(input_h / p) * std::floor(input_w / p);
  const bool class_token = c.family != model::Family::kSigLIP;
  const double t = patches + (class_token ? 1 : 0);
  const double d = c.hidden_size;
  const double m = c.intermediate_size;
  const auto layer = [&](double rows_out) {  // rows_out: the rows whose output is read
    return 2 * t * d * 2 * d + 2 * rows_out * d * d + 2 * 2 * rows_out * t * d +
           2 * rows_out * d * d + 2 * 2 * rows_out * d * m;
  };
  double flops = 2 * patches * 3 * p * p * d;
  flops += (c.num_hidden_layers - 1) * layer(t) + layer(class_token ? 1 : t);
  if (c.family == model::Family::kSigLIP) flops += 2 * 2 * t * d * d + 2 * 2 * d * m + 2 * d * d;
  if (c.family == model::Family::kCLIP) flops += 2 * d * static_cast<double>(embedding);
  return flops / 1e9;
}

struct Stats {
  double median, low, high;
};

template <typename F>
Stats time_runs(int reps, F&& run) {
  run();  // warm-up: primitive creation, page faults
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return {seconds[seconds.size() / 2], seconds.front(), seconds.back()};
}

int matmul_peak(int threads, int reps) {
  // ViT-B MLP shapes at batch 8 of 197 tokens: what the encoder's matmuls look like.
  constexpr int kRows = 1576;
  constexpr int kIn = 768;
  constexpr int kOut = 3072;
  std::vector<float> w(static_cast<size_t>(kIn) * kOut, 0.01F);
  std::vector<float> x(static_cast<size_t>(kRows) * kIn, 0.5F);
  std::vector<uint16_t> x16(x.size());
  kernels::to_bf16(x.data(), x.size(), x16.data());
  std::vector<float> y(static_cast<size_t>(kRows) * kOut);
  for (auto precision : {kernels::Precision::kF32, kernels::Precision::kBF16}) {
    if (precision == kernels::Precision::kBF16 && !kernels::cpu_has_bf16()) continue;
    const kernels::OnednnLinear linear(w, {}, kIn, kOut, precision);
    const void* input =
        precision == kernels::Precision::kF32 ? static_cast<const void*>(x.data()) : x16.data();
    const Stats s = time_runs(reps, [&] { linear.apply(input, kRows, y.data()); });
    const double gflop = 2.0 * kRows * kIn * kOut / 1e9;
    fmt::print(
        "{{\"impl\": \"onednn-matmul\", \"precision\": \"{}\", \"threads\": {}, \"shape\": "
        "\"{}x{}x{}\", \"gflops\": {:.1f}, \"gflops_low\": {:.1f}}}\n",
        precision == kernels::Precision::kF32 ? "fp32" : "bf16", threads, kRows, kIn, kOut,
        gflop / s.median, gflop / s.high);
  }
  return 0;
}

int run(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  const int threads = args.count("threads") ? std::stoi(args["threads"]) : 0;
  kernels::set_compute_threads(threads);
  const int reps = args.count("reps") ? std::stoi(args["reps"]) : 5;
  if (args.count("matmul-peak")) return matmul_peak(threads, reps * 4);
  for (const char* required : {"family", "model", "precision", "batch", "input"}) {
    if (args.count(required) == 0 || args.count("help") != 0) {
      std::cerr << "usage: deft_encoder_bench --family F --model DIR --precision fp32|bf16 "
                   "--batch N --input PIXELS.f32 [--threads T] [--reps R]\n"
                   "       deft_encoder_bench --matmul-peak [--threads T] [--reps R]\n"
                   "(bench/encoder_vs_peers.py runs it; JSON rows go to stdout)\n";
      return 2;
    }
  }

  const model::Family family = model::parse_family(args.at("family"));
  model::EncoderOptions options;
  options.precision =
      args.at("precision") == "bf16" ? model::Precision::kBF16 : model::Precision::kF32;
  const auto load_start = Clock::now();
  const auto encoder = model::load_encoder(args.at("model"), family, options);
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();
  const auto& p = encoder->config().processor;
  const size_t batch = std::stoul(args.at("batch"));
  const size_t per_image = 3 * static_cast<size_t>(p.input_height()) * p.input_width();

  // The peers read the same file: n images, 3 × H × W float32 each, already preprocessed.
  std::vector<float> pixels(batch * per_image);
  std::ifstream in(args.at("input"), std::ios::binary);
  in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(pixels.size() * 4));
  if (!in) throw std::runtime_error("input file too short for the batch");

  std::vector<float> out(batch * encoder->embedding_dim());
  const Stats s = time_runs(reps, [&] { encoder->encode(pixels.data(), batch, out.data()); });
  double checksum = 0;
  for (float v : out)
    checksum += v;
  fmt::print(
      "{{\"impl\": \"deft\", \"mode\": \"onednn\", \"precision\": \"{}\", \"family\": \"{}\", "
      "\"batch\": {}, \"threads\": {}, \"median_s\": {:.4f}, \"low_s\": {:.4f}, \"high_s\": "
      "{:.4f}, \"img_per_s\": {:.3f}, \"gflop_per_image\": {:.3f}, \"load_s\": {:.2f}, "
      "\"checksum\": {:.6g}}}\n",
      args.at("precision"), args.at("family"), batch, threads, s.median, s.low, s.high,
      static_cast<double>(batch) / s.median,
      gflop_per_image(encoder->config().vision, p.input_height(), p.input_width(),
                      encoder->embedding_dim()),
      load_seconds, checksum);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "deft_encoder_bench: {}\n", e.what());
    return 1;
  }
}
