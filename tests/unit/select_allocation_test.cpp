// class_stratified's pieces in-process: the largest-remainder quotas (worked by hand) and the
// detection readers on files shaped as COCO and KITTI publish them, with their lookup rules
// and their errors.
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "select/detections.h"
#include "select/stats.h"
#include "select/stratify.h"
#include "test_support.h"

namespace deft::select {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// 10 units over ratios 0.25 / 0.25 / 0.5 (Σ 1): ideals 2.5, 2.5, 5 → floors 2, 2, 5, one unit
// left; the remainders tie at 0.5 between "bus" and "car": the later name, "car", takes it.
TEST(Quotas, ARemainderTieGoesToTheLaterName) {
  EXPECT_THAT(allocate_quotas({{"bus", 0.25}, {"car", 0.25}, {"non_rare", 0.5}}, 10),
              ElementsAre(Pair("bus", 2), Pair("car", 3), Pair("non_rare", 5)));
}

// 7 units over 1/3, 1/3, 2/3 (Σ 4/3, an image in two classes): ideals 1.75, 1.75, 3.5 → floors
// 1, 1, 3; two left go to the largest remainders 0.75, 0.75 (bus, car), not 0.5.
TEST(Quotas, OverlappingClassesShareTheBudgetByTheirSum) {
  const double third = 1.0 / 3.0;
  EXPECT_THAT(allocate_quotas({{"bus", third}, {"car", third}, {"non_rare", 2 * third}}, 7),
              ElementsAre(Pair("bus", 2), Pair("car", 2), Pair("non_rare", 3)));
}

TEST(Quotas, NoBudgetOrNoTargetsGivesZeros) {
  EXPECT_THAT(allocate_quotas({{"bus", 0.0}, {"non_rare", 0.0}}, 5),
              ElementsAre(Pair("bus", 0), Pair("non_rare", 0)));
  EXPECT_THAT(allocate_quotas({{"bus", 1.0}}, 0), ElementsAre(Pair("bus", 0)));
}

// A COCO file as the COCO 2017 annotations are laid out (images, annotations with bbox
// [x, y, w, h], categories), trimmed to three images. b/x.jpg and c/x.jpg share a basename.
const char* kCoco = R"({
  "info": {"description": "COCO-style"},
  "images": [{"id": 1, "file_name": "a/cat.jpg", "width": 640, "height": 480},
             {"id": 2, "file_name": "b/x.jpg"}, {"id": 3, "filepath": "c/x.jpg"},
             {"id": 4, "file_name": "", "file_path": "d/bus.png"}],
  "annotations": [
    {"id": 1, "image_id": 1, "category_id": 17, "bbox": [1, 2, 3, 4], "area": 12, "iscrowd": 0},
    {"id": 2, "image_id": 1, "category_id": 6, "bbox": [5, 6, 7, 8]},
    {"id": 3, "image_id": 2, "category_id": 6, "bbox": [0, 0, 1, 1]},
    {"id": 4, "image_id": 3, "category_id": 17},
    {"id": 5, "image_id": 4, "category_id": 6, "bbox": [1, 1, 2, 2]},
    {"id": 6, "image_id": 9, "category_id": 6, "bbox": [1, 1, 2, 2]}],
  "categories": [{"id": 17, "name": "Cat", "supercategory": "animal"},
                 {"id": 6, "name": "bus", "supercategory": "vehicle"}]
})";

TEST(Detections, CocoIsFoundByPathThenBasenameThenStem) {
  testing::ScratchDir dir;
  testing::write_text_file(dir / "train.json", kCoco);
  const Detections d = Detections::read(dir / "train.json", DetectionFormat::kCoco);
  const ImageDetections* cat = d.find("a/cat.jpg");
  ASSERT_NE(cat, nullptr);
  EXPECT_THAT(cat->classes, ElementsAre("Cat", "bus"));
  ASSERT_EQ(cat->boxes.size(), 2U);
  EXPECT_EQ(cat->boxes[1].class_name, "bus");
  EXPECT_EQ(cat->boxes[1].w, 7.0);
  ASSERT_NE(d.find("elsewhere/cat.jpg"), nullptr);  // by basename
  EXPECT_THAT(d.find("elsewhere/cat.jpg")->classes, ElementsAre("Cat", "bus"));
  EXPECT_NE(d.find("d/bus.png"), nullptr);  // file_name empty: file_path is used
  // x.jpg names two images: found by full path only; its annotation without a bbox still
  // gives its class.
  EXPECT_THAT(d.ambiguous_basenames(), ElementsAre("x.jpg"));
  EXPECT_EQ(d.find("z/x.jpg"), nullptr);
  ASSERT_NE(d.find("c/x.jpg"), nullptr);
  EXPECT_THAT(d.find("c/x.jpg")->classes, ElementsAre("Cat"));
  EXPECT_TRUE(d.find("c/x.jpg")->boxes.empty());
  EXPECT_EQ(d.find("a/dog.jpg"), nullptr);
}

// Read as a stream: annotations may come before the images they name; ids match as Python
// dict keys do (1 and 1.0 are one key, "1" is another); other keys and nesting are skipped.
TEST(Detections, CocoKeysMatchAsPythonDictKeysInAnyOrder) {
  testing::ScratchDir dir;
  testing::write_text_file(dir / "c.json", R"({
    "annotations": [{"image_id": 1.0, "category_id": "7", "bbox": [0, 0, 2, 2]},
                    {"image_id": "1", "category_id": "7", "bbox": [1, 1, 1, 1]}],
    "licenses": [{"id": 1, "nested": {"images": [1, 2]}}],
    "images": [{"id": 1, "file_name": "x/one.jpg"}, {"id": "1", "file_name": "x/text.jpg"}],
    "categories": [{"id": "7", "name": "truck"}]})");
  const Detections d = Detections::read(dir / "c.json", DetectionFormat::kCoco);
  ASSERT_NE(d.find("x/one.jpg"), nullptr);
  EXPECT_EQ(d.find("x/one.jpg")->boxes.size(), 1U);
  EXPECT_EQ(d.find("x/one.jpg")->boxes[0].w, 2.0);
  ASSERT_NE(d.find("x/text.jpg"), nullptr);
  EXPECT_EQ(d.find("x/text.jpg")->boxes[0].w, 1.0);
}

TEST(Detections, CocoEntriesOfTheWrongTypeAreNamed) {
  testing::ScratchDir dir;
  const auto error_of = [&](const std::string& text) -> std::string {
    testing::write_text_file(dir / "c.json", text);
    try {
      Detections::read(dir / "c.json", DetectionFormat::kCoco);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(error_of(R"({"images": {}, "annotations": []})"),
              HasSubstr("'images' is not a list"));
  EXPECT_THAT(error_of(R"({"images": [3], "annotations": []})"),
              HasSubstr("images[0] is not an object"));
  EXPECT_THAT(error_of(R"({"images": [{"id": 1, "file_name": 7}], "annotations": []})"),
              HasSubstr("images[0]: the file name is 7, not text"));
  EXPECT_THAT(error_of(R"({"images": [], "annotations": [{}, 5]})"),
              HasSubstr("annotations[1] is not an object"));
}

// Seeded mutations of a COCO file (bytes dropped, replaced, duplicated): each read either
// succeeds or throws deft::Error; nothing else escapes (no crash, no other exception type).
TEST(Detections, MutatedCocoFilesFailOnlyWithErrors) {
  testing::ScratchDir dir;
  std::mt19937 rng(5);
  const std::string base = kCoco;
  size_t errors = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text = base;
    for (int m = 0; m < 1 + static_cast<int>(rng() % 4); ++m) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(at, 1 + rng() % 8);
          break;
        case 1:
          text[at] = "{}[]\",:0\"-e."[rng() % 12];
          break;
        default:
          text.insert(at, text.substr(at, 1 + rng() % 16));
          break;
      }
      if (text.empty()) text = "{";
    }
    testing::write_text_file(dir / "m.json", text);
    try {
      Detections::read(dir / "m.json", DetectionFormat::kCoco);
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 100U);  // most mutations break the JSON or a COCO rule
}

// KITTI: label_2/<stem>.txt, 15 fields per object; DontCare and short lines skipped; the box
// x1 y1 x2 y2 becomes x, y, w, h. Images are found by stem.
TEST(Detections, KittiIsFoundByStemAndSkipsWhatTheReferenceSkips) {
  testing::ScratchDir dir;
  fs::create_directories(dir / "label_2");
  testing::write_text_file(dir / "label_2/000042.txt",
                           "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 "
                           "1.71 46.70 -1.59\n"
                           "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 "
                           "-1000 -10\n"
                           "Pedestrian 0.00 0 0.21 x 1 2 3 1.8 0.5 0.6 1 1 1 0\n"
                           "Cyclist 0 0\n");
  const Detections d = Detections::read(dir / "label_2", DetectionFormat::kKitti);
  const ImageDetections* image = d.find("/data/images/000042.png");
  ASSERT_NE(image, nullptr);
  EXPECT_THAT(image->classes, ElementsAre("Car"));
  ASSERT_EQ(image->boxes.size(), 1U);
  EXPECT_NEAR(image->boxes[0].w, 614.12 - 587.01, 1e-9);
  EXPECT_NEAR(image->boxes[0].h, 200.12 - 173.33, 1e-9);
}

TEST(Detections, MalformedFilesAreOneLineErrorsNamingTheFileAndEntry) {
  testing::ScratchDir dir;
  const auto error_of = [&](const std::string& name, const std::string& text,
                            DetectionFormat format) -> std::string {
    if (!text.empty()) testing::write_text_file(dir / name, text);
    try {
      Detections::read(dir / name, format);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(error_of("bad.json", "{\"images\": [", DetectionFormat::kCoco),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("list.json", "[1, 2]", DetectionFormat::kCoco),
              HasSubstr("must hold a JSON object"));
  EXPECT_THAT(error_of("noann.json", "{\"images\": []}", DetectionFormat::kCoco),
              HasSubstr("has no 'images' or no 'annotations'"));
  EXPECT_THAT(
      error_of("cat.json", R"({"images": [], "annotations": [], "categories": [{"id": 1}]})",
               DetectionFormat::kCoco),
      HasSubstr("categories[0] needs an 'id' and a text 'name'"));
  EXPECT_THAT(error_of("box.json",
                       R"({"images": [{"id": 1, "file_name": "a.jpg"}],
                           "annotations": [{"image_id": 1, "category_id": 1,
                                            "bbox": [1, "2", 3, 4]}],
                           "categories": [{"id": 1, "name": "a"}]})",
                       DetectionFormat::kCoco),
              HasSubstr("annotations[0]: bbox [1,\"2\",3,4]"));
  EXPECT_THAT(error_of("box.json", "", DetectionFormat::kCoco), HasSubstr("box.json"));
  fs::create_directories(dir / "empty_labels");
  EXPECT_THAT(error_of("empty_labels", "", DetectionFormat::kKitti),
              HasSubstr("holds no .txt label files"));
  EXPECT_THAT(error_of("absent", "", DetectionFormat::kKitti), HasSubstr("does not exist"));
}

// Per-class counts come from the boxes (an annotation without a bbox counts for the rare test
// but not as an instance); rare_instances counts distinct rare classes per image.
TEST(DatasetStats, CountsImagesInstancesAndRareClassesAsTheReference) {
  testing::ScratchDir dir;
  testing::write_text_file(dir / "train.json", kCoco);
  const Detections d = Detections::read(dir / "train.json", DetectionFormat::kCoco);
  const DatasetStats s = dataset_stats({"a/cat.jpg", "c/x.jpg", "q/none.jpg"}, &d, {"cat"});
  EXPECT_EQ(s.total_images, 3U);
  EXPECT_EQ(s.rare_images, 2U);  // a/cat.jpg, c/x.jpg (Cat, no bbox)
  EXPECT_EQ(s.common_images, 1U);
  EXPECT_EQ(s.rare_instances, 2U);
  EXPECT_THAT(s.per_class, ElementsAre(Pair("Cat", ::testing::_), Pair("bus", ::testing::_)));
  EXPECT_EQ(s.per_class.at("Cat").instances, 1U);
  EXPECT_EQ(s.per_class.at("bus").images, 1U);
}

}  // namespace
}  // namespace deft::select
