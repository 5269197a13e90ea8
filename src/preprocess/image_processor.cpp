#include "preprocess/image_processor.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "preprocess/pillow_resize.h"

namespace deft::preprocess {
namespace {

// HF image_transforms.center_crop: pad with zeros (centred) up to the crop size, then take the
// window at top = (H − h) / 2, left = (W − w) / 2.
RgbImage center_crop(const RgbImage& image, int crop_height, int crop_width) {
  const int padded_h = std::max(image.height, crop_height);
  const int padded_w = std::max(image.width, crop_width);
  const int pad_top = (padded_h - image.height) / 2;
  const int pad_left = (padded_w - image.width) / 2;
  const int top = (padded_h - crop_height) / 2;
  const int left = (padded_w - crop_width) / 2;
  RgbImage out(crop_width, crop_height);
  std::fill(out.data.begin(), out.data.end(), uint8_t{0});  // the padding is black
  for (int y = 0; y < crop_height; ++y) {
    const int source_y = y + top - pad_top;
    if (source_y < 0 || source_y >= image.height) continue;
    for (int x = 0; x < crop_width; ++x) {
      const int source_x = x + left - pad_left;
      if (source_x < 0 || source_x >= image.width) continue;
      std::memcpy(out.row(y) + static_cast<ptrdiff_t>(3) * x,
                  image.row(source_y) + static_cast<ptrdiff_t>(3) * source_x, 3);
    }
  }
  return out;
}

}  // namespace

int ProcessorConfig::input_height() const {
  return center_crop ? crop_height : (resize == ResizeMode::kToSize ? height : -1);
}

int ProcessorConfig::input_width() const {
  return center_crop ? crop_width : (resize == ResizeMode::kToSize ? width : -1);
}

RgbImage resize_and_crop(const RgbImage& image, const ProcessorConfig& config) {
  RgbImage resized;
  if (config.resize == ResizeMode::kToSize) {
    resized = pillow_resize(image, config.width, config.height, config.resample);
  } else {
    const bool wide = image.width > image.height;
    const int shortest = wide ? image.height : image.width;
    const int longest = wide ? image.width : image.height;
    // int(size * long / short) in Python: a true division, truncated.
    const int scaled =
        static_cast<int>(static_cast<double>(config.shortest_edge) * longest / shortest);
    resized = wide ? pillow_resize(image, scaled, config.shortest_edge, config.resample)
                   : pillow_resize(image, config.shortest_edge, scaled, config.resample);
  }
  return config.center_crop ? center_crop(resized, config.crop_height, config.crop_width) : resized;
}

void preprocess_image(const RgbImage& image, const ProcessorConfig& config, float* out) {
  const RgbImage ready = resize_and_crop(image, config);
  DEFT_ASSERT(ready.width == config.input_width() && ready.height == config.input_height(),
              "the processor config fixes the input size");
  const size_t plane = static_cast<size_t>(ready.width) * ready.height;
  // HF: uint8 × factor in double, cast to float32, then (x − mean) / std in float32; a pure
  // function of the byte and the channel, so computed once per value.
  float value_of[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const auto scaled = static_cast<float>(v * config.rescale_factor);
      value_of[c][v] = (scaled - config.mean[c]) / config.std[c];
    }
  }
  const uint8_t* pixel = ready.data.data();
  for (size_t i = 0; i < plane; ++i, pixel += 3) {
    out[i] = value_of[0][pixel[0]];
    out[plane + i] = value_of[1][pixel[1]];
    out[2 * plane + i] = value_of[2][pixel[2]];
  }
}

}  // namespace deft::preprocess
