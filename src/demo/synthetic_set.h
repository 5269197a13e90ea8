#pragma once
// The demo's generated dataset: procedural images in three classes, and a pool that holds
// transformed copies of every target (planted neighbours) among distractors.
//
//   demo::SyntheticSet set = demo::write_synthetic_set(dir, /*seed=*/7);
//   // dir/images/targets/*.png, dir/images/pool/*.{png,jpg},
//   // dir/targets.parquet (filepath, label, …), dir/pool.csv (filepath, label)
//   double recall = demo::planted_recall(set, pairs_parquet);
//
// Every image is mirror-symmetric about its vertical axis, so a flipped copy stays a close
// copy even for the pixel-space `thumbnail` encoder. Each target has three copies in the pool:
// a centred 94% crop resized back, a flip with a slight colour cast, and a quality-60 JPEG.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace deft::demo {

struct SyntheticSet {
  std::filesystem::path targets;  // targets.parquet
  std::filesystem::path pool;     // pool.csv
  // target filepath (as in the tables) → its planted copies' filepaths
  std::map<std::string, std::vector<std::string>> planted;
  int targets_count = 0;
  int pool_count = 0;
};

SyntheticSet write_synthetic_set(const std::filesystem::path& dir, int64_t seed);

// The share of planted copies found among their target's neighbours in a pairs parquet
// (`deft mine`'s <output>.pairs.parquet), kept pairs only.
double planted_recall(const SyntheticSet& set, const std::filesystem::path& pairs);

}  // namespace deft::demo
