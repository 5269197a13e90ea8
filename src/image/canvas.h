#pragma once
// A small RGB drawing surface for deft's charts and contact sheets: filled and outlined
// rectangles, text (libvips/Pango, DejaVu Sans), images pasted scaled, PNG out. Pixel-exact
// and deterministic for shapes; text depends on the installed font.
//
//   image::Canvas c(960, 600, image::kWhite);
//   c.fill_rect(10, 10, 50, 200, {76, 114, 176});
//   c.text(10, 220, "bus", 14, image::kBlack);
//   c.save_png("chart.png");

#include <cstdint>
#include <filesystem>
#include <string>

#include "preprocess/rgb_image.h"

namespace deft::image {

struct Rgb {
  uint8_t r, g, b;
  bool operator==(const Rgb&) const = default;
};
inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};

struct TextSize {
  int width = 0;
  int height = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);

  int width() const { return image_.width; }
  int height() const { return image_.height; }
  const preprocess::RgbImage& image() const { return image_; }
  Rgb at(int x, int y) const;

  // [x0, x1) × [y0, y1), clipped to the canvas.
  void fill_rect(int x0, int y0, int x1, int y1, Rgb color);
  // The outline of [x0, x1] × [y0, y1], `thickness` pixels inward.
  void outline_rect(int x0, int y0, int x1, int y1, int thickness, Rgb color);
  // `text` with its top-left corner at (x, y), `size` pixels high; returns its size. Text that
  // cannot be rendered (no font) is skipped: a chart without labels is still a chart.
  TextSize text(int x, int y, const std::string& text, int size, Rgb color, bool bold = false);
  static TextSize measure(const std::string& text, int size, bool bold = false);
  // `picture` scaled to fit inside [x, x + w) × [y, y + h), centred, aspect kept; returns the
  // scale used and where it landed (for drawing boxes on it).
  struct Placement {
    double scale = 0;
    int x = 0, y = 0;
  };
  Placement paste_fitted(const preprocess::RgbImage& picture, int x, int y, int w, int h);

  // Throws Error(kRun) naming the file when it cannot be written.
  void save_png(const std::filesystem::path& path) const;

 private:
  preprocess::RgbImage image_;
};

}  // namespace deft::image
