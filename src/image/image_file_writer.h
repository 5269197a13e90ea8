#pragma once
// RGB images to files, with libvips: PNG (lossless) or JPEG at a given quality. For the files
// deft makes itself (the demo's images, the visual report's thumbnails).
//
//   image::write_image_file(rgb, "thumbs/t_0.jpg", /*jpeg_quality=*/80);

#include <filesystem>

#include "preprocess/rgb_image.h"

namespace deft::image {

// jpeg_quality 0 writes PNG. Throws Error(kRun) naming the file on failure.
void write_image_file(const preprocess::RgbImage& image, const std::filesystem::path& path,
                      int jpeg_quality = 0);

}  // namespace deft::image
