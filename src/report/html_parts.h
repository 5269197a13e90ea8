#pragma once
// The pieces both report.html pages are made of (nearest-neighbour mining and unique
// selection): escaping, file links, SQL rows as text, thumbnails, bar charts as inline SVG,
// the failed-images table, image cards, the paging controls and script, the page head.
//
//   std::string html = html_head("Mining report", verdict) + actions_list(actions);
//   html += svg_chart({.caption = "…", .x_axis = "label", .y_axis = "images", .bars = bars});
//   html += failures_table(db, facts) + paging_script() + "</body></html>\n";

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/run_facts.h"
#include "table/duckdb_handles.h"

namespace deft::report {

inline constexpr size_t kHtmlPageSize = 100;
// Decoding every image of a large run would take as long as embedding it: the later targets'
// cards link to their files instead.
inline constexpr size_t kMaxThumbnailTargets = 100;
// About 12 MB of HTML; targets past it are in the run's parquets (the page says so).
inline constexpr size_t kMaxListedPairs = 50000;

using Rows = std::vector<std::vector<std::string>>;

std::string escape(std::string_view text);
// Escaped, with `code` spans (the Markdown report's sentences) as <code>.
std::string with_code(std::string_view text);
// file:///… with every byte outside the unreserved set percent-encoded, so that spaces, '#'
// and '?' in a file name still reach the file.
std::string file_url(const std::filesystem::path& path);
// A path as an SQL string literal.
std::string quoted(const std::filesystem::path& p);
// Rows of a query, every column as text (NULL as "").
Rows rows_of(table::Database& db, const std::string& sql);
bool has_label(table::Database& db, const std::filesystem::path& parquet);
// Where the relative filepath values of an embedding parquet point (deft.path_base).
std::filesystem::path path_base(table::Database& db, const std::filesystem::path& parquet);
// `filepath` joined to `base` unless it is absolute.
std::filesystem::path resolve(const std::filesystem::path& base, const std::string& filepath);

struct BarChart {
  std::string caption;
  std::string x_axis;
  std::string y_axis;
  std::vector<std::pair<std::string, uint64_t>> bars;  // name (also the tooltip), count
  // A numeric x axis (the histogram): ticks at both ends and the middle; otherwise the bars'
  // names stand under them when they fit.
  std::optional<std::pair<double, double>> x_range;
};
std::string svg_chart(const BarChart& c, const char* colour);

// The rows that failed to embed, both sides, with their reasons.
std::string failures_table(table::Database& db, const RunFacts& f);
// "Recommended actions" as a list.
std::string actions_list(const std::vector<std::string>& actions);

// Where the target cards put their thumbnails and find their images.
struct TargetView {
  std::filesystem::path thumbs;
  std::filesystem::path target_base;
  std::filesystem::path pool_base;
};
std::string badge(const std::string& label);
// One image: its thumbnail (or a grey box) when `thumbnail`, else a plain box, linked to the
// file. The thumbnail is written to v.thumbs/thumb_name.
std::string card(const TargetView& v, const std::filesystem::path& image,
                 const std::string& thumb_name, const std::string& caption, const std::string& css,
                 bool thumbnail);
// A text target's card (`deft run target_text=`): its prompt where an image target's card has
// the thumbnail, then the caption.
std::string text_card(const std::string& prompt, const std::string& caption);
// The page links that work without the script (each page is a `section.page`), then the
// filter and the status line the script fills. Targets are `div.target` with a `.query` card.
std::string paging_controls(size_t listed, size_t total);
// "with thumbnails", or for how many targets there are thumbnails, for `listed` targets.
std::string thumbnails_words(size_t listed);
// Before the i-th listed target: the section of its page opened (and the previous one closed)
// at each page's first target, else nothing.
std::string page_break(size_t i);
std::string paging_script();

// <!DOCTYPE html> … <h1>title</h1>, the verdict and its reasons.
std::string html_head(const std::string& title, const Verdict& verdict);

}  // namespace deft::report
