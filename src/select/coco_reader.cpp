#include "select/coco_reader.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace deft::select {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

[[noreturn]] void refuse(const fs::path& file, const std::string& what) {
  throw Error(ErrorKind::kInput, fmt::format("detection file '{}': {}", file.string(), what));
}

enum class Section { kNone, kImages, kAnnotations, kCategories };

// The handler: a stack of open containers; entries of the three sections are filled as their
// fields stream by, everything else is skipped.
class CocoHandler : public nlohmann::json_sax<Json> {
 public:
  explicit CocoHandler(const fs::path& file) : file_(file) {}
  CocoFile result;
  bool root_object = false;

  bool null() override { return scalar(CocoValue{false, false, "null"}, ""); }
  bool boolean(bool v) override {
    return scalar(CocoValue{v, false, v ? "true" : "false"}, v ? "1" : "0");
  }
  bool number_integer(number_integer_t v) override {
    if (!wants_value()) return scalar(CocoValue{}, "");
    return scalar(CocoValue{v != 0, false, std::to_string(v)}, std::to_string(v), double(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (!wants_value()) return scalar(CocoValue{}, "");
    return scalar(CocoValue{v != 0, false, std::to_string(v)}, std::to_string(v), double(v));
  }
  bool number_float(number_float_t v, const string_t& text) override {
    if (!wants_value()) return scalar(CocoValue{}, "");
    // Python: 1.0 == 1 as a dict key.
    const std::string key = std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15
                                ? fmt::format("{}", static_cast<int64_t>(v))
                                : "f" + text;
    return scalar(CocoValue{v != 0, false, text}, key, v);
  }
  bool string(string_t& v) override {
    if (!wants_value()) return scalar(CocoValue{}, "");
    return scalar(CocoValue{!v.empty(), true, v}, "s" + v);
  }
  bool binary(binary_t&) override { return scalar(CocoValue{true, false, "<binary>"}, ""); }

  bool start_object(std::size_t) override {
    if (stack_.empty()) root_object = true;
    open(true);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    open(false);
    return true;
  }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    stack_.back().key = k;
    if (depth() == 1 && k == "images") result.has_images = true;
    if (depth() == 1 && k == "annotations") result.has_annotations = true;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    refuse(file_, fmt::format("not valid JSON (byte {}): {}", position, e.what()));
  }

 private:
  struct Level {
    bool object;
    std::string key;   // objects: the current key
    size_t items = 0;  // arrays: items seen
  };

  // Depth of the open containers: 1 root, 2 a section's list, 3 an entry, 4 an entry's field.
  size_t depth() const { return stack_.size(); }

  // Whether a scalar here is kept: the entry fields the lookups read, and a bbox's numbers.
  // Only those get their text made (much of a large COCO file is other fields: area, iscrowd,
  // width, segmentation…).
  bool wants_value() const {
    if (depth() == 3 && section_ != Section::kNone) {
      const std::string& f = stack_[2].key;
      switch (section_) {
        case Section::kImages:
          return f == "id" || f == "file_name" || f == "filepath" || f == "file_path";
        case Section::kAnnotations:
          return f == "image_id" || f == "category_id" || f == "bbox";
        case Section::kCategories:
          return f == "id" || f == "name";
        case Section::kNone:
          break;
      }
      return false;
    }
    return depth() == 4 && section_ == Section::kAnnotations && stack_[2].key == "bbox" &&
           !stack_[3].object;
  }

  void open(bool object) {
    // A container as a value: what it means depends on where it opens.
    if (depth() == 1) {
      const std::string& k = stack_[0].key;
      section_ = k == "images"        ? Section::kImages
                 : k == "annotations" ? Section::kAnnotations
                 : k == "categories"  ? Section::kCategories
                                      : Section::kNone;
      if (section_ != Section::kNone && object) refuse(file_, fmt::format("'{}' is not a list", k));
    } else if (depth() == 2 && section_ != Section::kNone) {
      const size_t i = stack_[1].items++;
      if (!object) refuse(file_, fmt::format("{}[{}] is not an object", section_name(), i));
      start_entry();
    } else if (depth() == 3 && section_ != Section::kNone) {
      field_container(object);
    }
    stack_.push_back({object, "", 0});
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  const char* section_name() const {
    return section_ == Section::kImages        ? "images"
           : section_ == Section::kAnnotations ? "annotations"
                                               : "categories";
  }

  void start_entry() {
    if (section_ == Section::kImages) result.images.emplace_back();
    if (section_ == Section::kAnnotations) result.annotations.emplace_back();
    if (section_ == Section::kCategories) result.categories.emplace_back();
  }

  // A list or object as an entry's field value.
  void field_container(bool object) {
    const std::string& field = stack_[2].key;
    const CocoValue other{true, false, object ? "{...}" : "[...]"};
    if (section_ == Section::kImages) image_field(field, other, "");
    if (section_ == Section::kAnnotations) {
      CocoAnnotation& a = result.annotations.back();
      if (field == "bbox") {
        a.bbox_list = !object;
        a.bbox_items = 0;
        a.bbox_numbers = true;
        a.bbox_text.clear();
        bbox_text_.clear();
      }
      if (field == "image_id") a.image_id.clear();
      if (field == "category_id") a.category_id.clear();
    }
    if (section_ == Section::kCategories && field == "name") {
      result.categories.back().has_name = true;
      result.categories.back().name.reset();
    }
  }

  void image_field(const std::string& field, const CocoValue& v, const JsonKey& key) {
    CocoImage& image = result.images.back();
    if (field == "id") image.id = key;
    if (field == "file_name") image.file_name = v;
    if (field == "filepath") image.filepath = v;
    if (field == "file_path") image.file_path = v;
  }

  bool scalar(const CocoValue& v, const JsonKey& key, std::optional<double> number = {}) {
    if (stack_.empty()) return true;  // a bare scalar as the whole file
    if (depth() == 1) {
      const std::string& k = stack_[0].key;
      if (k == "images" || k == "annotations" || k == "categories")
        refuse(file_, fmt::format("'{}' is not a list", k));
    }
    if (depth() == 2 && section_ != Section::kNone) {
      refuse(file_, fmt::format("{}[{}] is not an object", section_name(), stack_[1].items++));
    }
    if (depth() == 3 && section_ != Section::kNone) {
      const std::string& field = stack_[2].key;
      if (section_ == Section::kImages) image_field(field, v, key);
      if (section_ == Section::kAnnotations) {
        CocoAnnotation& a = result.annotations.back();
        if (field == "image_id") a.image_id = key;
        if (field == "category_id") a.category_id = key;
        if (field == "bbox") a.bbox_list = false;
      }
      if (section_ == Section::kCategories) {
        CocoCategory& c = result.categories.back();
        if (field == "id") {
          c.id = key;
          c.has_id = true;
        }
        if (field == "name") {
          c.has_name = true;
          if (v.text)
            c.name = v.value;
          else
            c.name.reset();
        }
      }
    }
    if (depth() == 4 && section_ == Section::kAnnotations && stack_[2].key == "bbox" &&
        !stack_[3].object) {
      CocoAnnotation& a = result.annotations.back();
      if (a.bbox_items < a.bbox.size() && number) a.bbox[a.bbox_items] = *number;
      ++a.bbox_items;
      if (!number) a.bbox_numbers = false;
      // The list's text, for the message about it: made for every list (cheap, reused), kept
      // by the few that need it.
      if (!bbox_text_.empty()) bbox_text_ += ',';
      if (v.text) bbox_text_ += '"';
      bbox_text_ += v.value;
      if (v.text) bbox_text_ += '"';
      if (!a.bbox_numbers) a.bbox_text = bbox_text_;
    }
    return true;
  }

  const fs::path& file_;
  std::string bbox_text_;  // the current bbox list's items as written
  std::vector<Level> stack_;
  Section section_ = Section::kNone;
};

// The file's bytes for the parser a megabyte at a time: nlohmann reads a std::istream one
// character per virtual call, a third of the parse of a large COCO file.
class FileBytes {
 public:
  explicit FileBytes(const fs::path& file) : in_(file, std::ios::binary), buffer_(1 << 20) {
    fill();
  }
  bool good() const { return static_cast<bool>(in_) || in_.eof(); }
  bool at_end() const { return at_ == size_; }
  const char& current() const { return buffer_[at_]; }
  void advance() {
    if (++at_ == size_) fill();
  }

  // An input iterator over the bytes (one object underneath, as nlohmann copies iterators).
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;
    explicit Iterator(FileBytes* bytes = nullptr) : bytes_(bytes) {}
    reference operator*() const { return bytes_->current(); }
    Iterator& operator++() {
      bytes_->advance();
      return *this;
    }
    bool operator==(const Iterator& other) const { return done() == other.done(); }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    bool done() const { return bytes_ == nullptr || bytes_->at_end(); }
    FileBytes* bytes_;
  };

 private:
  void fill() {
    at_ = 0;
    size_ = 0;
    if (!in_) return;
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    size_ = static_cast<size_t>(in_.gcount());
  }

  std::ifstream in_;
  std::vector<char> buffer_;
  size_t at_ = 0, size_ = 0;
};

}  // namespace

CocoFile read_coco_file(const fs::path& file) {
  FileBytes bytes(file);
  if (!bytes.good()) refuse(file, "cannot be read");
  CocoHandler handler(file);
  Json::sax_parse(FileBytes::Iterator(&bytes), FileBytes::Iterator(), &handler);
  if (!bytes.good()) refuse(file, "cannot be read to its end");
  if (!handler.root_object) refuse(file, "must hold a JSON object (COCO)");
  return std::move(handler.result);
}

}  // namespace deft::select
