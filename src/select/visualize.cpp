#include "select/visualize.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/log.h"
#include "common/output_set.h"
#include "common/text.h"
#include "embed/image_file.h"
#include "image/decode.h"
#include "select/outputs.h"
#include "select/path_names.h"
#include "select/python_random.h"
#include "table/path_base.h"

namespace deft::select {

namespace fs = std::filesystem;
using image::Canvas;
using image::Rgb;
using image::TextSize;

namespace {

constexpr Rgb kAxis{0x33, 0x33, 0x33};
constexpr Rgb kRed{255, 0, 0};
constexpr Rgb kBlue{0, 0, 255};

void save(const Canvas& canvas, const fs::path& file, OutputSet& outputs) {
  const fs::path temporary = prepare_output(file);
  canvas.save_png(temporary);
  outputs.add(temporary, file);
}

// A step of 1, 2 or 5 × 10^k giving at most 6 ticks up to `top`.
size_t tick_step(size_t top) {
  for (size_t decade = 1;; decade *= 10) {
    for (size_t m : {1, 2, 5}) {
      if (top / (m * decade) <= 6) return m * decade;
    }
  }
}

}  // namespace

image::TextSize count_chart_size(size_t classes) {
  const double inches = std::max(8.0, 0.6 * static_cast<double>(classes) + 4.0);
  return {static_cast<int>(std::lround(120.0 * inches)), 600};
}

ChartRecord draw_count_chart(const std::string& title, const std::string& axis_label,
                             const std::vector<std::string>& classes,
                             const std::vector<size_t>& target, const std::vector<size_t>& result,
                             Canvas& canvas) {
  ChartRecord record;
  const int left = 90, right = canvas.width() - 30, top = 60;
  record.baseline = canvas.height() - 130;  // room below for the class names
  const int plot_height = record.baseline - top;
  size_t max_value = 1;
  for (size_t i = 0; i < classes.size(); ++i)
    max_value = std::max({max_value, target[i], result[i]});
  const double per_unit = plot_height / (static_cast<double>(max_value) * 1.1);
  const TextSize title_size = Canvas::measure(title, 20, true);
  canvas.text((canvas.width() - title_size.width) / 2, 18, title, 20, image::kBlack, true);
  canvas.text(12, top - 30, axis_label, 14, kAxis);
  // Axes and ticks.
  canvas.fill_rect(left - 2, top, left, record.baseline + 2, kAxis);
  canvas.fill_rect(left - 2, record.baseline, right, record.baseline + 2, kAxis);
  const size_t step = tick_step(max_value);
  for (size_t v = 0; v <= max_value; v += step) {
    const int y = record.baseline - static_cast<int>(std::lround(v * per_unit));
    canvas.fill_rect(left - 8, y, left - 2, y + 1, kAxis);
    const std::string label = std::to_string(v);
    const TextSize s = Canvas::measure(label, 12);
    canvas.text(left - 12 - s.width, y - s.height / 2, label, 12, kAxis);
  }
  // Bars: per class a pair, 0.4 of the class's slot each, as matplotlib's x ± 0.2.
  const double slot = static_cast<double>(right - left) / std::max<size_t>(classes.size(), 1);
  const int bar = std::max(1, static_cast<int>(slot * 0.4));
  for (size_t i = 0; i < classes.size(); ++i) {
    const int centre = left + static_cast<int>(std::lround(slot * (static_cast<double>(i) + 0.5)));
    for (const auto& [values, colour, out, x0] :
         {std::tuple{&target, kTargetBlue, &record.target, centre - bar},
          std::tuple{&result, kResultOrange, &record.result, centre}}) {
      const size_t value = (*values)[i];
      const int height = static_cast<int>(std::lround(value * per_unit));
      const BarRecord b{x0, x0 + bar, record.baseline - height, value};
      canvas.fill_rect(b.x0, b.top, b.x1, record.baseline, colour);
      const std::string label = std::to_string(value);
      const TextSize s = Canvas::measure(label, 11);
      canvas.text((b.x0 + b.x1 - s.width) / 2, b.top - s.height - 2, label, 11, kAxis);
      out->push_back(b);
    }
    // The class name under its pair, cut to the slot's width.
    std::string name = classes[i];
    while (name.size() > 1 && Canvas::measure(name, 12).width > static_cast<int>(slot) - 4)
      name.pop_back();
    const TextSize s = Canvas::measure(name, 12);
    canvas.text(centre - s.width / 2, record.baseline + 8, name, 12, image::kBlack);
  }
  // Legend, top right, above the plot.
  int y = 8;
  for (const auto& [label, colour] :
       {std::pair{"target", kTargetBlue}, std::pair{"resultant", kResultOrange}}) {
    canvas.fill_rect(right - 120, y + 3, right - 100, y + 15, colour);
    canvas.text(right - 94, y, label, 13, image::kBlack);
    y += 20;
  }
  return record;
}

namespace {

void write_count_charts(const SelectReport& report, const fs::path& dir, OutputSet& outputs) {
  if (!report.target_dataset || !report.resultant_dataset) return;
  std::set<std::string> names;
  for (const auto& [name, c] : report.target_dataset->per_class)
    names.insert(name);
  for (const auto& [name, c] : report.resultant_dataset->per_class)
    names.insert(name);
  if (names.empty()) return;
  const std::vector<std::string> classes(names.begin(), names.end());
  for (const bool images : {true, false}) {
    std::vector<size_t> t, r;
    for (const std::string& name : classes) {
      const auto count = [&](const DatasetStats& d) -> size_t {
        const auto it = d.per_class.find(name);
        return it == d.per_class.end() ? 0 : images ? it->second.images : it->second.instances;
      };
      t.push_back(count(*report.target_dataset));
      r.push_back(count(*report.resultant_dataset));
    }
    const image::TextSize size = count_chart_size(classes.size());
    Canvas canvas(size.width, size.height, image::kWhite);
    draw_count_chart(images ? "Image Count per class" : "Instance Count per class",
                     images ? "image count" : "instance count", classes, t, r, canvas);
    save(canvas, dir / (images ? "image_count_per_class.png" : "instance_count_per_class.png"),
         outputs);
  }
}

// One cell: the image with its boxes (the class's red, others blue) and a caption.
void draw_cell(Canvas& canvas, int x, int y, int w, int h, const std::string& caption,
               const fs::path& file, const ImageDetections* detections, const std::string& focal) {
  const TextSize s = Canvas::measure(caption, 12);
  canvas.text(x + (w - s.width) / 2, y + 4, caption, 12, image::kBlack);
  const int top = y + 24;
  preprocess::RgbImage picture;
  const embed::FileRead read = embed::read_image_file(file);
  try {
    if (!read.failure.empty()) throw std::runtime_error(read.failure);
    picture = image::decode_image(read.bytes, {});
  } catch (const std::exception& e) {
    log::warn("visualize: could not load '{}': {}", file.string(), e.what());
    const TextSize f = Canvas::measure("load failed", 14);
    canvas.text(x + (w - f.width) / 2, top + (h - 24) / 2, "load failed", 14, kAxis);
    return;
  }
  const Canvas::Placement at = canvas.paste_fitted(picture, x + 4, top, w - 8, h - 28);
  if (detections == nullptr) return;
  for (const Box& b : detections->boxes) {
    const bool is_focal = !focal.empty() && ascii_lower(b.class_name) == focal;
    const auto px = [&](double v, int origin) {
      return origin + static_cast<int>(std::lround(v * at.scale));
    };
    const Rgb colour = is_focal ? kRed : kBlue;
    const int x0 = px(b.x, at.x), y0 = px(b.y, at.y);
    canvas.outline_rect(x0, y0, px(b.x + b.w, at.x), px(b.y + b.h, at.y), is_focal ? 4 : 2, colour);
    // The class name on a filled tag above the box, or just inside it at the image's top.
    const int pad = 2;
    const TextSize label = Canvas::measure(b.class_name, 13, true);
    const int tag_y = y0 - label.height - 2 * pad >= at.y ? y0 - label.height - 2 * pad : y0 + pad;
    canvas.fill_rect(x0, tag_y, x0 + label.width + 2 * pad, tag_y + label.height + 2 * pad, colour);
    canvas.text(x0 + pad, tag_y + pad, b.class_name, 13, image::kWhite, true);
  }
}

void write_class_sheets(const SelectJob& job, const SelectReport& report,
                        const SelectResults& inputs, const fs::path& dir, OutputSet& outputs) {
  if (job.allocation != Allocation::kClassStratified) return;
  std::vector<std::string> names = job.rare_classes;
  names.push_back("non_rare");
  std::sort(names.begin(), names.end());
  PythonRandom rng(42);
  for (const std::string& name : names) {
    // Each target's picks the first time it appears in the class's pass files (then its
    // fallback's); a rare class's sheet shows only targets with a box of the class.
    std::vector<const SatisfiedTarget*> candidates;
    for (const SatisfiedTarget* t :
         first_claims(class_pass_files(report, name), inputs.target_paths)) {
      const std::string& path = inputs.target_paths[t->target];
      const ImageDetections* d =
          inputs.target_detections ? inputs.target_detections->find(path) : nullptr;
      const bool has_class =
          name == "non_rare" ||
          (d != nullptr && std::any_of(d->boxes.begin(), d->boxes.end(), [&](const Box& b) {
             return ascii_lower(b.class_name) == name;
           }));
      if (has_class) candidates.push_back(t);
    }
    if (candidates.empty()) continue;
    const std::vector<size_t> sampled =
        rng.sample(candidates.size(), std::min<size_t>(5, candidates.size()));
    const int rows_n = static_cast<int>(sampled.size());
    Canvas canvas(1600, 400 * rows_n, image::kWhite);
    const std::string focal = name == "non_rare" ? "" : name;
    const std::string title =
        name == "non_rare" ? "Non-rare pool  (all bboxes shown in blue)"
                           : fmt::format("Class: {}  (red = {} bbox, blue = other)", name, name);
    const TextSize ts = Canvas::measure(title, 18, true);
    canvas.text((1600 - ts.width) / 2, 6, title, 18, image::kBlack, true);
    const int band = 32;  // the title's
    const int cell_h = (400 * rows_n - band) / rows_n;
    for (int r = 0; r < rows_n; ++r) {
      const SatisfiedTarget& t = *candidates[sampled[r]];
      const std::string& target = inputs.target_paths[t.target];
      const int y = band + r * cell_h;
      draw_cell(canvas, 0, y, 400, cell_h, "target: " + path_name(target),
                table::resolve_filepath(target, inputs.target_base),
                inputs.target_detections ? inputs.target_detections->find(target) : nullptr, focal);
      for (size_t c = 0; c < 3; ++c) {
        const int x = 400 * static_cast<int>(c + 1);
        if (c >= t.picks.size()) {
          const TextSize s = Canvas::measure("(no match)", 14);
          canvas.text(x + (400 - s.width) / 2, y + cell_h / 2, "(no match)", 14, kAxis);
          continue;
        }
        const std::string& pick = inputs.files.path(t.picks[c].file);
        draw_cell(canvas, x, y, 400, cell_h, fmt::format("top{}: {}", c + 1, path_name(pick)),
                  table::resolve_filepath(pick, inputs.pool_base),
                  inputs.pool_detections ? inputs.pool_detections->find(pick) : nullptr, focal);
      }
    }
    save(canvas, dir / fmt::format("viz_class_{}.png", name), outputs);
  }
}

}  // namespace

void write_visualizations(const SelectJob& job, const SelectReport& report,
                          const SelectResults& inputs, OutputSet& outputs) {
  write_count_charts(report, job.output_dir, outputs);
  write_class_sheets(job, report, inputs, job.output_dir, outputs);
}

}  // namespace deft::select
