#pragma once
// visualize=true: the reference's pictures as PNG, drawn by deft (image/canvas).
// - image_count_per_class.png and instance_count_per_class.png: per class, the targets' count
//   (blue) beside the selection's (orange), with the values over the bars. Size as the
//   reference's matplotlib figure: 120 × max(8, 0.6 × classes + 4) by 600 pixels.
// - class_stratified: viz_class_<class>.png per rare class and non_rare: up to 5 targets
//   (Python's random.Random(42).sample, as the reference) each beside its top-3 picks, boxes
//   of the class in red (4 px) and of other classes in blue (2 px). 1600 × 400·rows pixels.
//
//   ChartRecord r = draw_count_chart("Image Count per class", "image count", classes, t, s, c);

#include <filesystem>
#include <string>
#include <vector>

#include "image/canvas.h"
#include "select/detections.h"
#include "select/outputs.h"
#include "select/select_job.h"

namespace deft {
class OutputSet;
}

namespace deft::select {

// Where each bar landed, so a test can read the bars back from the pixels.
struct BarRecord {
  int x0 = 0, x1 = 0;  // columns [x0, x1)
  int top = 0;         // first row of the bar (== baseline for a 0 value)
  size_t value = 0;
};
struct ChartRecord {
  int baseline = 0;  // the row just below the bars
  std::vector<BarRecord> target, result;
};

inline constexpr image::Rgb kTargetBlue{0x4C, 0x72, 0xB0};
inline constexpr image::Rgb kResultOrange{0xDD, 0x84, 0x52};

ChartRecord draw_count_chart(const std::string& title, const std::string& axis_label,
                             const std::vector<std::string>& classes,
                             const std::vector<size_t>& target, const std::vector<size_t>& result,
                             image::Canvas& canvas);
// The chart's size for `classes` classes.
image::TextSize count_chart_size(size_t classes);

// Writes the pictures visualize=true asks for into `dir`, joining `outputs`.
void write_visualizations(const SelectJob& job, const SelectReport& report,
                          const SelectResults& inputs, OutputSet& outputs);

}  // namespace deft::select
