#include "image/decode.h"

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "image/cmyk.h"
#include "image/jpeg_decode.h"
#include "image/orientation.h"
#include "image/vips_image.h"

namespace deft::image {
namespace {

using Clock = std::chrono::steady_clock;

bool starts_with(std::span<const std::byte> bytes, std::string_view magic, size_t at = 0) {
  return bytes.size() >= at + magic.size() &&
         std::memcmp(bytes.data() + at, magic.data(), magic.size()) == 0;
}

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = take_vips_error();
  throw DecodeError(detail.empty() ? what : what + ": " + detail);
}

VipsImagePtr load(const std::string& format, std::span<const std::byte> bytes, bool sequential) {
  void* data = const_cast<std::byte*>(bytes.data());  // libvips only reads it
  const size_t size = bytes.size();
  VipsImage* out = nullptr;
  int rc = -1;
  // Truncated data is an error, not a grey-filled image: a half image would embed silently.
  const auto fail_on = VIPS_FAIL_ON_TRUNCATED;
  // Sequential access decodes straight into the output, top to bottom, in one pass (random
  // access first decodes into a cache and copies: 2–3× slower). Rotating (EXIF) needs random.
  const auto access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM;
  if (format == "JPEG") {
    rc = vips_jpegload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  } else if (format == "PNG") {
    rc = vips_pngload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  } else if (format == "WebP") {
    rc = vips_webpload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  } else if (format == "TIFF") {
    rc = vips_tiffload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  } else if (format == "GIF") {
    rc = vips_gifload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  } else if (format == "BMP") {
    rc = vips_magickload_buffer(data, size, &out, "fail_on", fail_on, "access", access, nullptr);
  }
  if (rc != 0 || out == nullptr) fail(fmt::format("not a readable {} file", format));
  return VipsImagePtr(out);
}

template <typename Sample>
preprocess::RgbImage to_rgb(const Sample* pixels, int width, int height, int bands, bool cmyk) {
  preprocess::RgbImage rgb(width, height);
  const size_t count = static_cast<size_t>(width) * height;
  // 16-bit samples keep their high byte.
  const auto byte = [](Sample v) {
    return static_cast<unsigned>(sizeof(Sample) == 1 ? v : (static_cast<unsigned>(v) >> 8));
  };
  uint8_t* out = rgb.data.data();
  for (size_t i = 0; i < count; ++i) {
    const Sample* p = pixels + i * static_cast<size_t>(bands);
    if (cmyk) {
      const unsigned k = byte(p[3]);
      for (int c = 0; c < 3; ++c)
        out[3 * i + c] = cmyk_channel(byte(p[c]), k);
    } else if (bands <= 2) {  // grey, grey + alpha
      const auto v = static_cast<uint8_t>(byte(p[0]));
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = v;
    } else {  // RGB, RGB + alpha (dropped)
      for (int c = 0; c < 3; ++c)
        out[3 * i + c] = static_cast<uint8_t>(byte(p[c]));
    }
  }
  return rgb;
}

}  // namespace

std::string sniff_format(std::span<const std::byte> bytes) {
  if (starts_with(bytes, "\xFF\xD8\xFF")) return "JPEG";
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n")) return "PNG";
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) return "GIF";
  if (starts_with(bytes, "RIFF") && starts_with(bytes, "WEBP", 8)) return "WebP";
  if (starts_with(bytes, std::string_view("II*\0", 4)) ||
      starts_with(bytes, std::string_view("MM\0*", 4)) ||
      starts_with(bytes, std::string_view("II+\0", 4)) ||
      starts_with(bytes, std::string_view("MM\0+", 4))) {
    return "TIFF";
  }
  if (starts_with(bytes, "BM") && bytes.size() >= 26) return "BMP";
  return "";
}

int jpeg_shrink_factor(int width, int height, const DecodeOptions& options) {
  if (options.target_width <= 0 || options.target_height <= 0) return 1;
  int shrink = 1;
  for (int s : {2, 4, 8}) {
    // libjpeg rounds the scaled size up.
    const int w = (width + s - 1) / s;
    const int h = (height + s - 1) / s;
    if (w < options.min_shrunk_ratio * options.target_width ||
        h < options.min_shrunk_ratio * options.target_height) {
      break;
    }
    shrink = s;
  }
  return shrink;
}

preprocess::RgbImage decode_image(std::span<const std::byte> bytes, const DecodeOptions& options) {
  init_vips();
  if (bytes.empty()) throw DecodeError("empty file");
  const std::string format = sniff_format(bytes);
  if (format.empty()) {
    throw DecodeError("not an image deft reads (JPEG, PNG, WebP, TIFF, GIF, BMP)");
  }
  // JPEGs go straight through libjpeg: Pillow's pixels, much less overhead, one truncation and
  // corruption policy, and the only path that shrinks on load.
  if (format == "JPEG") {
    preprocess::RgbImage rgb = decode_jpeg(bytes, options);
    if (!options.apply_exif_orientation) return rgb;
    // libvips reads the header only here (the pixels are decoded lazily, and never).
    const VipsImagePtr header = load(format, bytes, true);
    return apply_orientation(std::move(rgb), vips_image_get_orientation(header.get()));
  }
  const bool sequential = !options.apply_exif_orientation;
  VipsImagePtr image = load(format, bytes, sequential);
  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  const uint64_t pixels = static_cast<uint64_t>(width) * static_cast<uint64_t>(height);
  if (width <= 0 || height <= 0) throw DecodeError(fmt::format("{} with no pixels", format));
  if (pixels > options.max_pixels) {
    throw DecodeError(fmt::format("{}×{} {} is {} pixels, over the limit of {} (max_image_pixels)",
                                  width, height, format, pixels, options.max_pixels));
  }
  if (options.apply_exif_orientation) {
    VipsImage* rotated = nullptr;
    if (vips_autorot(image.get(), &rotated, nullptr) != 0) fail("cannot apply EXIF orientation");
    image.reset(rotated);
  }
  const VipsBandFormat sample = vips_image_get_format(image.get());
  if (sample != VIPS_FORMAT_UCHAR && sample != VIPS_FORMAT_USHORT) {
    throw DecodeError(fmt::format("{} with {} samples: only 8- and 16-bit images are supported",
                                  format, vips_enum_nick(VIPS_TYPE_BAND_FORMAT, sample)));
  }
  const int bands = vips_image_get_bands(image.get());
  const bool cmyk = vips_image_get_interpretation(image.get()) == VIPS_INTERPRETATION_CMYK;
  if (bands < 1 || bands > 5 || (bands == 5 && !cmyk) || (cmyk && bands < 4)) {
    throw DecodeError(fmt::format("{} with {} channels is not grey, RGB or CMYK", format, bands));
  }

  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.timeout_seconds));
  bool expired = false;
  const std::unique_ptr<uint8_t[]> decoded = compute_pixels(image.get(), [&] {
    expired = Clock::now() > deadline;
    return !expired;
  });
  if (expired) {  // stopped between strips by us: libvips's error buffer holds nothing of ours
    throw DecodeError(
        fmt::format("{} decode took over {} s (decode_timeout)", format, options.timeout_seconds));
  }
  if (!decoded) fail(fmt::format("corrupt or truncated {} data", format));
  const uint8_t* memory = decoded.get();
  const int w = vips_image_get_width(image.get());
  const int h = vips_image_get_height(image.get());
  if (sample == VIPS_FORMAT_UCHAR && bands == 3 && !cmyk) {  // the common case: as it is
    preprocess::RgbImage rgb(w, h);
    std::memcpy(rgb.data.data(), memory, rgb.data.size());
    return rgb;
  }
  if (sample == VIPS_FORMAT_UCHAR) {
    return to_rgb(memory, w, h, bands, cmyk);
  }
  return to_rgb(reinterpret_cast<const uint16_t*>(memory), w, h, bands, cmyk);
}

}  // namespace deft::image
