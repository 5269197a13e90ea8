#include "image_writer.h"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <vips/vips.h>

#include "image/vips_image.h"

namespace deft::testing {
namespace {

void save(VipsImage* image, const std::filesystem::path& path, bool lossless) {
  const std::string ext = path.extension().string();
  const char* file = path.c_str();
  int rc = -1;
  if (ext == ".jpg" || ext == ".jpeg") {
    rc = vips_jpegsave(image, file, "Q", 90, nullptr);
  } else if (ext == ".png") {
    rc = vips_pngsave(image, file, nullptr);
  } else if (ext == ".webp") {
    rc = vips_webpsave(image, file, "lossless", lossless ? TRUE : FALSE, nullptr);
  } else if (ext == ".tiff" || ext == ".tif") {
    rc = vips_tiffsave(image, file, nullptr);
  } else if (ext == ".gif") {
    rc = vips_gifsave(image, file, nullptr);
  } else if (ext == ".bmp") {
    rc = vips_magicksave(image, file, "format", "bmp", nullptr);
  }
  if (rc != 0) {
    throw std::runtime_error("cannot write test image " + path.string() + ": " +
                             image::take_vips_error());
  }
}

}  // namespace

void write_image(const std::filesystem::path& path, int width, int height, int bands,
                 unsigned seed) {
  image::init_vips();
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-30, 30);
  std::uniform_int_distribution<int> phase(0, 255);
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * bands);
  int offsets[4] = {phase(rng), phase(rng), phase(rng), phase(rng)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int b = 0; b < bands; ++b) {
        const int v = (offsets[b] + x * 255 / width * (b % 2 ? 1 : -1) + y * 255 / height) & 255;
        pixels[(static_cast<size_t>(y) * width + x) * bands + b] =
            static_cast<uint8_t>(std::clamp(v + noise(rng), 0, 255));
      }
    }
  }
  VipsImage* image = vips_image_new_from_memory(pixels.data(), pixels.size(), width, height, bands,
                                                VIPS_FORMAT_UCHAR);
  if (bands <= 2) image->Type = VIPS_INTERPRETATION_B_W;
  save(image, path, false);
  g_object_unref(image);
}

void write_rgb_image(const std::filesystem::path& path, const preprocess::RgbImage& rgb) {
  image::init_vips();
  VipsImage* image = vips_image_new_from_memory(rgb.data.data(), rgb.data.size(), rgb.width,
                                                rgb.height, 3, VIPS_FORMAT_UCHAR);
  save(image, path, true);
  g_object_unref(image);
}

}  // namespace deft::testing
