#pragma once
// A COCO detection file read as a stream (nlohmann's SAX interface), keeping only what unique
// matching uses: each image's id and file name, each category's id and name, each annotation's
// image, category and box. COCO train2017's 450 MB file would take gigabytes as a JSON tree.
//
//   CocoFile coco = read_coco_file("instances_train2017.json");   // throws Error(kInput)

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace deft::select {

// A JSON scalar as Python would use it as a dict key: 1, 1.0 and true are one key; "1" is
// another. Empty: null (or not a scalar).
using JsonKey = std::string;

struct CocoValue {
  bool truthy = false;  // Python's truth value
  bool text = false;    // a string
  std::string value;    // the string, or the JSON text of anything else
};

struct CocoImage {
  JsonKey id;
  CocoValue file_name, filepath, file_path;
};
struct CocoCategory {
  JsonKey id;
  bool has_id = false;
  std::optional<std::string> name;  // when a string
  bool has_name = false;
};
struct CocoAnnotation {
  JsonKey image_id, category_id;
  bool bbox_list = false;        // bbox is a list
  uint32_t bbox_items = 0;       // how many items it holds
  std::array<double, 4> bbox{};  // its first four items
  bool bbox_numbers = true;      // every item a number
  std::string bbox_text;         // the list as written, kept only when an item is not a number
};

struct CocoFile {
  bool has_images = false, has_annotations = false;
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoAnnotation> annotations;
};

// Throws Error(kInput) naming the file for invalid JSON, a root that is not an object, and
// sections or entries of the wrong type (naming the entry, e.g. images[3]).
CocoFile read_coco_file(const std::filesystem::path& file);

}  // namespace deft::select
