#include "select/detections.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "select/coco_reader.h"
#include "select/path_names.h"

namespace deft::select {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& what) {
  throw Error(ErrorKind::kInput, fmt::format("detection file '{}': {}", file.string(), what));
}

// Python's float() of a KITTI field; nullopt where it would raise.
std::optional<double> parse_float(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

Detections Detections::read(const fs::path& path, DetectionFormat format) {
  std::error_code ec;
  if (!fs::exists(path, ec)) refuse(path, "does not exist");
  return format == DetectionFormat::kKitti ? read_kitti(path) : read_coco(path);
}

Detections Detections::read_coco(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) refuse(file, "is a folder; COCO detections are one JSON file");
  const CocoFile coco = read_coco_file(file);
  if (!coco.has_images || !coco.has_annotations)
    refuse(file, "has no 'images' or no 'annotations': not a COCO annotation file");
  // id → image entry, the last entry with the id winning (the reference builds a dict).
  std::unordered_map<JsonKey, uint32_t> image_of_id;
  image_of_id.reserve(coco.images.size());
  std::vector<const std::string*> image_path(coco.images.size(), nullptr);
  for (size_t i = 0; i < coco.images.size(); ++i) {
    const CocoImage& image = coco.images[i];
    // file_name, else filepath, else file_path: the first with a true value, as Python's `or`.
    const CocoValue* path = nullptr;
    for (const CocoValue* v : {&image.file_name, &image.filepath, &image.file_path}) {
      if (v->truthy) {
        path = v;
        break;
      }
    }
    if (path == nullptr || image.id.empty()) continue;
    if (!path->text)
      refuse(file, fmt::format("images[{}]: the file name is {}, not text", i, path->value));
    image_path[i] = &path->value;
    image_of_id[image.id] = static_cast<uint32_t>(i);
  }
  std::unordered_map<JsonKey, const std::string*> category_name;
  for (size_t i = 0; i < coco.categories.size(); ++i) {
    const CocoCategory& c = coco.categories[i];
    if (!c.has_id || !c.name)
      refuse(file, fmt::format("categories[{}] needs an 'id' and a text 'name'", i));
    category_name[c.id] = &*c.name;
  }
  // One record per distinct path (two entries naming one path share it), made when the first
  // annotation reaches it; a basename is ambiguous once two records claim it.
  constexpr uint32_t kNone = UINT32_MAX, kAmbiguous = UINT32_MAX - 1;
  Detections d;
  d.by_path_.reserve(coco.images.size());
  d.by_base_.reserve(coco.images.size());
  std::vector<uint32_t> record_of_image(coco.images.size(), kNone);
  for (size_t i = 0; i < coco.annotations.size(); ++i) {
    const CocoAnnotation& a = coco.annotations[i];
    const auto image = image_of_id.find(a.image_id);
    const auto name = category_name.find(a.category_id);
    if (image == image_of_id.end() || name == category_name.end() || name->second->empty())
      continue;
    uint32_t& record = record_of_image[image->second];
    if (record == kNone) {
      const std::string& path = *image_path[image->second];
      const auto [at, added] =
          d.by_path_.try_emplace(path, static_cast<uint32_t>(d.images_.size()));
      if (added) {
        d.images_.emplace_back();
        const auto [base, fresh] = d.by_base_.try_emplace(path_name(path), at->second);
        if (!fresh && base->second != at->second) base->second = kAmbiguous;
      }
      record = at->second;
    }
    ImageDetections& found = d.images_[record];
    const std::string& class_name = *name->second;
    const auto slot = std::lower_bound(found.classes.begin(), found.classes.end(), class_name);
    if (slot == found.classes.end() || *slot != class_name) found.classes.insert(slot, class_name);
    if (a.bbox_list && a.bbox_items == 4) {
      if (!a.bbox_numbers)
        refuse(file, fmt::format("annotations[{}]: bbox [{}] holds a value that is not a number", i,
                                 a.bbox_text));
      found.boxes.push_back({class_name, a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]});
    }
  }
  // A basename naming two different images would merge them: left to the full-path lookup.
  for (auto it = d.by_base_.begin(); it != d.by_base_.end();) {
    if (it->second == kAmbiguous) {
      d.ambiguous_.push_back(it->first);
      it = d.by_base_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(d.ambiguous_.begin(), d.ambiguous_.end());
  return d;
}

Detections Detections::read_kitti(const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) refuse(folder, "is not a folder of KITTI label .txt files");
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  if (files.empty()) refuse(folder, "holds no .txt label files (KITTI)");
  std::sort(files.begin(), files.end());
  Detections d;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    if (!in) refuse(file, "cannot be read");
    const std::string stem = file.stem().string();
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::vector<std::string> parts;
      for (std::string w; words >> w;)
        parts.push_back(w);
      if (parts.size() < 9 || ascii_lower(parts[0]) == "dontcare") continue;  // as the reference
      const auto x1 = parse_float(parts[4]), y1 = parse_float(parts[5]);
      const auto x2 = parse_float(parts[6]), y2 = parse_float(parts[7]);
      if (!x1 || !y1 || !x2 || !y2) continue;
      const auto [at, added] =
          d.by_base_.try_emplace(stem, static_cast<uint32_t>(d.images_.size()));
      if (added) d.images_.emplace_back();
      ImageDetections& image = d.images_[at->second];
      const auto slot = std::lower_bound(image.classes.begin(), image.classes.end(), parts[0]);
      if (slot == image.classes.end() || *slot != parts[0]) image.classes.insert(slot, parts[0]);
      image.boxes.push_back({parts[0], *x1, *y1, *x2 - *x1, *y2 - *y1});
    }
  }
  return d;
}

const ImageDetections* Detections::find(const std::string& filepath) const {
  if (const auto it = by_path_.find(filepath); it != by_path_.end()) return &images_[it->second];
  for (const std::string& key : {path_name(filepath), path_stem(filepath)}) {
    const auto it = by_base_.find(key);
    if (it != by_base_.end() && !images_[it->second].classes.empty()) return &images_[it->second];
  }
  return nullptr;
}

}  // namespace deft::select
