#include "select/detections.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "select/path_names.h"

namespace deft::select {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& what) {
  throw Error(ErrorKind::kInput, fmt::format("detection file '{}': {}", file.string(), what));
}

// Python's truthiness of a JSON value that should be a path: a non-empty string.
const Json* first_path(const Json& image) {
  for (const char* key : {"file_name", "filepath", "file_path"}) {
    const auto it = image.find(key);
    if (it == image.end() || it->is_null()) continue;
    if (it->is_string() && it->get_ref<const std::string&>().empty()) continue;
    return &*it;
  }
  return nullptr;
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
  std::ifstream in(file, std::ios::binary);
  if (!in) refuse(file, "cannot be read");
  Json coco;
  try {
    coco = Json::parse(in);
  } catch (const Json::parse_error& e) {
    refuse(file, fmt::format("not valid JSON (byte {}): {}", e.byte, e.what()));
  }
  if (!coco.is_object())
    refuse(file, "must hold a JSON object (COCO), not " + std::string(coco.type_name()));
  if (!coco.contains("images") || !coco.contains("annotations"))
    refuse(file, "has no 'images' or no 'annotations': not a COCO annotation file");
  for (const char* key : {"images", "annotations", "categories"}) {
    if (coco.contains(key) && !coco[key].is_array())
      refuse(file, fmt::format("'{}' is not a list", key));
  }
  std::map<std::string, std::string> image_path;  // image id (as JSON text) → path
  const Json& images = coco["images"];
  for (size_t i = 0; i < images.size(); ++i) {
    const Json& image = images[i];
    if (!image.is_object()) refuse(file, fmt::format("images[{}] is not an object", i));
    const Json* path = first_path(image);
    const auto id = image.find("id");
    if (path == nullptr || id == image.end() || id->is_null()) continue;
    if (!path->is_string())
      refuse(file, fmt::format("images[{}]: the file name is {}, not text", i, path->dump()));
    image_path[id->dump()] = path->get<std::string>();
  }
  std::map<std::string, std::string> category_name;
  if (coco.contains("categories")) {
    const Json& categories = coco["categories"];
    for (size_t i = 0; i < categories.size(); ++i) {
      const Json& c = categories[i];
      if (!c.is_object() || !c.contains("id") || !c.contains("name") || !c["name"].is_string())
        refuse(file, fmt::format("categories[{}] needs an 'id' and a text 'name'", i));
      category_name[c["id"].dump()] = c["name"].get<std::string>();
    }
  }
  Detections d;
  std::map<std::string, std::set<std::string>> paths_of_base;
  const Json& annotations = coco["annotations"];
  for (size_t i = 0; i < annotations.size(); ++i) {
    const Json& a = annotations[i];
    if (!a.is_object()) refuse(file, fmt::format("annotations[{}] is not an object", i));
    const auto image = a.find("image_id");
    const auto category = a.find("category_id");
    if (image == a.end() || category == a.end()) continue;
    const auto path = image_path.find(image->dump());
    const auto name = category_name.find(category->dump());
    if (path == image_path.end() || name == category_name.end() || name->second.empty()) continue;
    const std::string base = path_name(path->second);
    ImageDetections& by_path = d.by_path_[path->second];
    ImageDetections& by_base = d.by_base_[base];
    by_path.classes.insert(name->second);
    by_base.classes.insert(name->second);
    paths_of_base[base].insert(path->second);
    const auto bbox = a.find("bbox");
    if (bbox != a.end() && bbox->is_array() && bbox->size() == 4) {
      Box box{name->second};
      double* fields[] = {&box.x, &box.y, &box.w, &box.h};
      for (size_t k = 0; k < 4; ++k) {
        if (!(*bbox)[k].is_number())
          refuse(file, fmt::format("annotations[{}]: bbox {} holds a value that is not a number", i,
                                   bbox->dump()));
        *fields[k] = (*bbox)[k].get<double>();
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
