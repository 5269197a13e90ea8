#include "image/image_file_writer.h"

#include <fmt/format.h>

#include "common/error.h"
#include "image/vips_image.h"

namespace deft::image {

void write_image_file(const preprocess::RgbImage& image, const std::filesystem::path& path,
                      int jpeg_quality) {
  init_vips();
  VipsImage* v = vips_image_new_from_memory_copy(image.data.data(), image.data.size(), image.width,
                                                 image.height, 3, VIPS_FORMAT_UCHAR);
  if (v == nullptr) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot write '{}': {}", path.string(), take_vips_error()));
  }
  const VipsImagePtr owned(v);
  const int rc = jpeg_quality > 0 ? vips_jpegsave(v, path.c_str(), "Q", jpeg_quality, nullptr)
                                  : vips_pngsave(v, path.c_str(), nullptr);
  if (rc != 0) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot write '{}': {}", path.string(), take_vips_error()));
  }
}

}  // namespace deft::image
