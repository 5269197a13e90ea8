#pragma once
// Detection files of class-stratified selection, read as the reference reads them
// (tao-compat.md): a COCO JSON (`images` with file_name, or filepath / file_path; `annotations`
// with image_id, category_id, bbox x,y,w,h; `categories`), or a folder of KITTI label files
// (`<image stem>.txt`, lines `class truncated occluded alpha x1 y1 x2 y2 …`).
//
//   Detections d = Detections::read("train.json", DetectionFormat::kCoco);
//   if (const ImageDetections* image = d.find("imgs/0001.jpg")) ... image->classes ...
//
// An image is found by its full path, else by its basename, else by its stem (KITTI's keys are
// stems). A COCO basename shared by two different paths is left out of the basename lookup
// (those images are then found by full path only); ambiguous_basenames() lists them.

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace deft::select {

enum class DetectionFormat { kNone, kCoco, kKitti };

struct Box {
  std::string class_name;  // as the file spells it
  double x = 0, y = 0, w = 0, h = 0;
};

struct ImageDetections {
  std::vector<std::string> classes;  // every annotated class, as spelled, sorted, once each
  std::vector<Box> boxes;            // annotations with a usable box
};

class Detections {
 public:
  // Throws Error(kInput) naming the file (and the entry) when it cannot be read: invalid
  // JSON, no `images` or `annotations`, entries of the wrong type; a KITTI folder without .txt
  // files.
  static Detections read(const std::filesystem::path& path, DetectionFormat format);

  // nullptr when the image has no detections (it then counts as non-rare).
  const ImageDetections* find(const std::string& filepath) const;

  const std::vector<std::string>& ambiguous_basenames() const { return ambiguous_; }

 private:
  static Detections read_coco(const std::filesystem::path& file);
  static Detections read_kitti(const std::filesystem::path& folder);

  // Each image's detections once, found by path (COCO) and by basename or stem: a pool's
  // detection file can name a million images, so neither copies them.
  std::vector<ImageDetections> images_;
  std::unordered_map<std::string, uint32_t> by_path_;
  std::unordered_map<std::string, uint32_t> by_base_;
  std::vector<std::string> ambiguous_;  // sorted
};

}  // namespace deft::select
