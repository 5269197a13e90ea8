#include "select/detections.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
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
  std::unordered_map<JsonKey, std::string> image_path;
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
    image_path[image.id] = path->value;
  }
  std::unordered_map<JsonKey, std::string> category_name;
  for (size_t i = 0; i < coco.categories.size(); ++i) {
    const CocoCategory& c = coco.categories[i];
    if (!c.has_id || !c.name)
      refuse(file, fmt::format("categories[{}] needs an 'id' and a text 'name'", i));
    category_name[c.id] = *c.name;
  }
  Detections d;
  std::map<std::string, std::set<std::string>> paths_of_base;
  for (size_t i = 0; i < coco.annotations.size(); ++i) {
    const CocoAnnotation& a = coco.annotations[i];
    const auto path = image_path.find(a.image_id);
    const auto name = category_name.find(a.category_id);
    if (path == image_path.end() || name == category_name.end() || name->second.empty()) continue;
    const std::string base = path_name(path->second);
    ImageDetections& by_path = d.by_path_[path->second];
    ImageDetections& by_base = d.by_base_[base];
    by_path.classes.insert(name->second);
    by_base.classes.insert(name->second);
    paths_of_base[base].insert(path->second);
    if (a.bbox_list && a.bbox.size() == 4) {
      Box box{name->second};
      double* fields[] = {&box.x, &box.y, &box.w, &box.h};
      for (size_t k = 0; k < 4; ++k) {
        if (!a.bbox[k])
          refuse(file, fmt::format("annotations[{}]: bbox [{}] holds a value that is not a number",
                                   i, a.bbox_text));
        *fields[k] = *a.bbox[k];
      }
      by_path.boxes.push_back(box);
      by_base.boxes.push_back(box);
    }
  }
  // A basename naming two different images would merge them: left to the full-path lookup.
  for (const auto& [base, paths] : paths_of_base) {
    if (paths.size() > 1) {
      d.by_base_.erase(base);
      d.ambiguous_.push_back(base);
    }
  }
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
      ImageDetections& image = d.by_base_[stem];
      image.classes.insert(parts[0]);
      image.boxes.push_back({parts[0], *x1, *y1, *x2 - *x1, *y2 - *y1});
    }
  }
  return d;
}

const ImageDetections* Detections::find(const std::string& filepath) const {
  if (const auto it = by_path_.find(filepath); it != by_path_.end()) return &it->second;
  for (const std::string& key : {path_name(filepath), path_stem(filepath)}) {
    const auto it = by_base_.find(key);
    if (it != by_base_.end() && !it->second.classes.empty()) return &it->second;
  }
  return nullptr;
}

}  // namespace deft::select
