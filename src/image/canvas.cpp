#include "image/canvas.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"
#include "image/image_file_writer.h"
#include "image/vips_image.h"

#if defined(__SANITIZE_ADDRESS__)
// Text goes through Pango and fontconfig, whose font caches live until exit by design:
// LeakSanitizer (test-asan) is told that those are not deft's leaks.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}
#endif

namespace deft::image {

namespace {

// A rendered text mask: one 8-bit alpha band.
struct Mask {
  VipsImagePtr image;
  int width = 0, height = 0;
};

Mask render(const std::string& text, int size, bool bold) {
  init_vips();
  VipsImage* out = nullptr;
  const std::string font = fmt::format("DejaVu Sans{} {}px", bold ? " Bold" : "", size);
  // Pango markup is on by default: escape what it would read as markup.
  std::string escaped;
  for (char c : text) {
    if (c == '&')
      escaped += "&amp;";
    else if (c == '<')
      escaped += "&lt;";
    else if (c == '>')
      escaped += "&gt;";
    else
      escaped += c;
  }
  if (escaped.empty() || vips_text(&out, escaped.c_str(), "font", font.c_str(), nullptr) != 0) {
    take_vips_error();
    return {};
  }
  Mask m{VipsImagePtr(out), out->Xsize, out->Ysize};
  return m;
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background) : image_(width, height) {
  fill_rect(0, 0, width, height, background);
}

Rgb Canvas::at(int x, int y) const {
  const uint8_t* p = image_.row(y) + 3 * x;
  return {p[0], p[1], p[2]};
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb color) {
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  x1 = std::min(width(), x1);
  y1 = std::min(height(), y1);
  for (int y = y0; y < y1; ++y) {
    uint8_t* p = image_.row(y) + 3 * x0;
    for (int x = x0; x < x1; ++x, p += 3) {
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
  }
}

void Canvas::outline_rect(int x0, int y0, int x1, int y1, int thickness, Rgb color) {
  fill_rect(x0, y0, x1 + 1, y0 + thickness, color);
  fill_rect(x0, y1 + 1 - thickness, x1 + 1, y1 + 1, color);
  fill_rect(x0, y0, x0 + thickness, y1 + 1, color);
  fill_rect(x1 + 1 - thickness, y0, x1 + 1, y1 + 1, color);
}

TextSize Canvas::measure(const std::string& text, int size, bool bold) {
  const Mask m = render(text, size, bold);
  return {m.width, m.height};
}

TextSize Canvas::text(int x, int y, const std::string& text, int size, Rgb color, bool bold) {
  const Mask m = render(text, size, bold);
  if (!m.image) return {};
  const std::unique_ptr<uint8_t[]> mask = compute_pixels(m.image.get(), [] { return true; });
  if (!mask) return {};
  const uint8_t* alpha = mask.get();
  for (int ty = 0; ty < m.height; ++ty) {
    const int cy = y + ty;
    if (cy < 0 || cy >= height()) continue;
    for (int tx = 0; tx < m.width; ++tx) {
      const int cx = x + tx;
      if (cx < 0 || cx >= width()) continue;
      const int a = alpha[static_cast<size_t>(ty) * m.width + tx];
      if (a == 0) continue;
      uint8_t* p = image_.row(cy) + 3 * cx;
      const uint8_t c[3] = {color.r, color.g, color.b};
      for (int k = 0; k < 3; ++k)
        p[k] = static_cast<uint8_t>((c[k] * a + p[k] * (255 - a) + 127) / 255);
    }
  }
  return {m.width, m.height};
}

Canvas::Placement Canvas::paste_fitted(const preprocess::RgbImage& picture, int x, int y, int w,
                                       int h) {
  Placement at;
  if (picture.width <= 0 || picture.height <= 0 || w <= 0 || h <= 0) return at;
  at.scale =
      std::min(static_cast<double>(w) / picture.width, static_cast<double>(h) / picture.height);
  const int pw = std::max(1, static_cast<int>(std::lround(picture.width * at.scale)));
  const int ph = std::max(1, static_cast<int>(std::lround(picture.height * at.scale)));
  at.x = x + (w - pw) / 2;
  at.y = y + (h - ph) / 2;
  // Area-averaged when shrinking, nearest when growing: enough for a contact sheet.
  for (int dy = 0; dy < ph; ++dy) {
    const int cy = at.y + dy;
    if (cy < 0 || cy >= height()) continue;
    const int sy0 = std::min(picture.height - 1, static_cast<int>(dy / at.scale));
    const int sy1 =
        std::max(sy0 + 1, std::min(picture.height, static_cast<int>((dy + 1) / at.scale)));
    for (int dx = 0; dx < pw; ++dx) {
      const int cx = at.x + dx;
      if (cx < 0 || cx >= width()) continue;
      const int sx0 = std::min(picture.width - 1, static_cast<int>(dx / at.scale));
      const int sx1 =
          std::max(sx0 + 1, std::min(picture.width, static_cast<int>((dx + 1) / at.scale)));
      unsigned sum[3] = {0, 0, 0};
      unsigned n = 0;
      for (int sy = sy0; sy < sy1; ++sy) {
        const uint8_t* s = picture.row(sy) + 3 * sx0;
        for (int sx = sx0; sx < sx1; ++sx, s += 3, ++n)
          for (int k = 0; k < 3; ++k)
            sum[k] += s[k];
      }
      uint8_t* p = image_.row(cy) + 3 * cx;
      for (int k = 0; k < 3; ++k)
        p[k] = static_cast<uint8_t>((sum[k] + n / 2) / n);
    }
  }
  return at;
}

void Canvas::save_png(const std::filesystem::path& path) const {
  write_image_file(image_, path, 0);
}

}  // namespace deft::image
