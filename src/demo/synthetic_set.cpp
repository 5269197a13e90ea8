#include "demo/synthetic_set.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "image/image_file_writer.h"
#include "preprocess/pillow_resize.h"
#include "table/duckdb_handles.h"
#include "table/parquet_writer.h"
#include "table/value_columns.h"

namespace deft::demo {
namespace {

namespace fs = std::filesystem;

constexpr int kWidth = 96;
constexpr int kHeight = 72;
constexpr int kTargetsPerClass = 8;
constexpr int kDistractorsPerClass = 56;
const char* const kClasses[] = {"crack", "dent", "rust"};

struct Params {
  int cls;
  double a, b, c, d;  // pattern parameters
  double base[3];     // colour
};

Params random_params(int cls, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Params p{cls, u(rng), u(rng), u(rng), u(rng), {}};
  static const double kBase[3][3] = {{120, 120, 125}, {70, 100, 160}, {170, 90, 40}};
  for (int c = 0; c < 3; ++c)
    p.base[c] = kBase[cls][c] + 40 * (u(rng) - 0.5);
  return p;
}

// A class-specific pattern that depends on |x − centre| only (mirror-symmetric).
preprocess::RgbImage render(const Params& p) {
  preprocess::RgbImage img(kWidth, kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const double dx = std::abs(x + 0.5 - kWidth / 2.0) / kWidth;
      const double yy = (y + 0.5) / kHeight;
      double v = 0;
      if (p.cls == 0) {  // crack: dark jagged lines across bands
        v = std::sin((4 + 10 * p.a) * yy * 6.28 + 8 * p.b * dx) > 0.85 - 0.3 * p.c ? -90 : 0;
        v += 25 * std::sin((3 + 6 * p.d) * dx * 6.28);
      } else if (p.cls == 1) {  // dent: rings around a point on the axis
        const double r = std::hypot(dx, yy - (0.2 + 0.6 * p.a));
        v = 60 * std::cos((5 + 15 * p.b) * r * 6.28 + 6.28 * p.c) * std::exp(-r * (1 + 3 * p.d));
      } else {  // rust: blotches mirrored about the axis
        for (int k = 0; k < 3; ++k) {
          const double cx = 0.05 + 0.35 * std::fmod(p.a + 0.37 * k, 1.0);
          const double cy = std::fmod(p.b + 0.29 * k, 1.0);
          const double s = 0.04 + 0.08 * std::fmod(p.c + 0.53 * k, 1.0);
          v += 80 * std::exp(-(std::pow(dx - cx, 2) + std::pow(yy - cy, 2)) / (2 * s * s));
        }
        v -= 30 * p.d;
      }
      uint8_t* px = img.row(y) + 3 * x;
      for (int c = 0; c < 3; ++c)
        px[c] = static_cast<uint8_t>(std::clamp(p.base[c] + v * (c == 2 ? 0.6 : 1.0), 0.0, 255.0));
    }
  }
  return img;
}

preprocess::RgbImage crop_back(const preprocess::RgbImage& in) {
  // The centre 94% (centred, so still symmetric), resized back to full size.
  const int w = kWidth * 94 / 100 / 2 * 2, h = kHeight * 94 / 100;
  preprocess::RgbImage crop(w, h);
  const int left = (kWidth - w) / 2, top = (kHeight - h) / 2;
  for (int y = 0; y < h; ++y)
    std::copy_n(in.row(top + y) + 3 * left, 3 * w, crop.row(y));
  return preprocess::pillow_resize_bicubic(crop, kWidth, kHeight);
}

preprocess::RgbImage flip_and_tint(const preprocess::RgbImage& in) {
  preprocess::RgbImage out(kWidth, kHeight);
  const double tint[3] = {1.04, 0.98, 1.0};
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      for (int c = 0; c < 3; ++c) {
        const double v = in.row(y)[3 * (kWidth - 1 - x) + c] * tint[c];
        out.row(y)[3 * x + c] = static_cast<uint8_t>(std::min(v, 255.0));
      }
    }
  }
  return out;
}

void save(const preprocess::RgbImage& img, const fs::path& path, int jpeg_quality = 0) {
  image::write_image_file(img, path, jpeg_quality);
}

}  // namespace

SyntheticSet write_synthetic_set(const fs::path& dir, int64_t seed) {
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  fs::create_directories(dir / "images" / "targets");
  fs::create_directories(dir / "images" / "pool");
  SyntheticSet set;
  using Kind = table::ValueColumn::Kind;
  auto t_path = table::ValueColumn::of("filepath", Kind::kText);
  auto t_label = table::ValueColumn::of("label", Kind::kText);
  auto t_score = table::ValueColumn::of("siamese_score", Kind::kReal);
  std::vector<std::pair<std::string, std::string>> pool;  // filepath, label
  std::uniform_real_distribution<double> u(0, 1);
  for (int cls = 0; cls < 3; ++cls) {
    for (int i = 0; i < kTargetsPerClass; ++i) {
      const Params p = random_params(cls, rng);
      const preprocess::RgbImage img = render(p);
      const std::string name = fmt::format("images/targets/{}_{:02}.png", kClasses[cls], i);
      save(img, dir / name);
      t_path.text.emplace_back(name);
      t_label.text.emplace_back(kClasses[cls]);
      t_score.reals.emplace_back(std::round(20 + 50 * u(rng)) / 100);
      const std::string stem = fmt::format("images/pool/{}_{:02}", kClasses[cls], i);
      const std::vector<std::string> copies = {stem + "_crop.png", stem + "_flip.png",
                                               stem + "_jpeg.jpg"};
      save(crop_back(img), dir / copies[0]);
      save(flip_and_tint(img), dir / copies[1]);
      save(img, dir / copies[2], 60);
      for (const std::string& c : copies)
        pool.emplace_back(c, kClasses[cls]);
      set.planted[name] = copies;
    }
    for (int i = 0; i < kDistractorsPerClass; ++i) {
      const std::string name = fmt::format("images/pool/{}_other_{:02}.png", kClasses[cls], i);
      save(render(random_params(cls, rng)), dir / name);
      pool.emplace_back(name, kClasses[cls]);
    }
  }
  std::shuffle(pool.begin(), pool.end(), rng);  // planted copies anywhere in the pool
  table::Database db;
  set.targets = dir / "targets.parquet";
  table::write_value_columns(db, set.targets, {t_path, t_label, t_score});
  std::string csv = "filepath,label\n";
  for (const auto& [path, label] : pool)
    csv += path + "," + label + "\n";
  set.pool = dir / "pool.csv";  // as teams often have it: a CSV
  write_file_atomically(set.pool, csv);
  set.targets_count = static_cast<int>(t_path.text.size());
  set.pool_count = static_cast<int>(pool.size());
  return set;
}

double planted_recall(const SyntheticSet& set, const fs::path& pairs) {
  table::Database db;
  std::set<std::pair<std::string, std::string>> found;
  for (const auto& row :
       table::read_query_text(db,
                              "SELECT target_filepath, filepath FROM read_parquet(" +
                                  table::sql_string_literal(pairs.string()) + ") WHERE kept",
                              "reading the demo's pairs")) {
    found.emplace(row[0].value_or(""), row[1].value_or(""));
  }
  size_t hits = 0, total = 0;
  for (const auto& [target, copies] : set.planted) {
    for (const std::string& c : copies) {
      ++total;
      hits += found.count({target, c});
    }
  }
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

}  // namespace deft::demo
