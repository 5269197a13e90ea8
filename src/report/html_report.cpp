#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/log.h"
#include "embed/image_file.h"
#include "embed/reuse_index.h"
#include "image/decode.h"
#include "image/image_file_writer.h"
#include "preprocess/pillow_resize.h"
#include "table/duckdb_handles.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

constexpr int kThumbSize = 128;

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string quoted(const fs::path& p) {
  return table::sql_string_literal(p.string());
}

// Rows of a query, every column as text (NULL as "").
std::vector<std::vector<std::string>> rows_of(table::Database& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : table::read_query_text(db, sql, "the visual report")) {
    std::vector<std::string> text;
    for (const auto& value : row)
      text.push_back(value.value_or(""));
    rows.push_back(std::move(text));
  }
  return rows;
}

bool has_label(table::Database& db, const fs::path& parquet) {
  table::TableReader reader(db, parquet);
  return reader.label_column().has_value();
}

fs::path path_base(table::Database& db, const fs::path& parquet) {
  const auto metadata = table::read_kv_metadata(db, parquet);
  const auto it = metadata.find(embed::kPathBaseKey);
  return it == metadata.end() ? parquet.parent_path() : fs::path(it->second);
}

// Writes thumbs/<name>.jpg for the image at `filepath`; false when it cannot be read.
bool make_thumbnail(const fs::path& image, const fs::path& out) {
  const embed::FileRead read = embed::read_image_file(image);
  if (!read.failure.empty()) return false;
  try {
    const image::DecodeOptions options{.target_width = kThumbSize, .target_height = kThumbSize};
    const preprocess::RgbImage rgb = image::decode_image(read.bytes, options);
    const double scale =
        std::min(1.0, static_cast<double>(kThumbSize) / std::max(rgb.width, rgb.height));
    const int w = std::max(1, static_cast<int>(std::lround(rgb.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(rgb.height * scale)));
    image::write_image_file(preprocess::pillow_resize_bicubic(rgb, w, h), out, 80);
    return true;
  } catch (const image::DecodeError&) {
    return false;
  }
}

fs::path resolve(const fs::path& base, const std::string& filepath) {
  const fs::path p(filepath);
  return p.is_absolute() ? p : base / p;
}

std::string svg_bars(const std::vector<std::pair<std::string, double>>& bars, const char* colour,
                     const std::string& title) {
  const double top =
      std::max(1.0, std::max_element(bars.begin(), bars.end(), [](const auto& a, const auto& b) {
                      return a.second < b.second;
                    })->second);
  constexpr int kHeight = 140;
  const int kBar = bars.size() <= 12 ? 48 : 22;  // room for the names under few bars
  const int width = std::max(200, static_cast<int>(bars.size()) * kBar + 20);
  std::string svg = fmt::format(
      "<figure><figcaption>{}</figcaption><svg width=\"{}\" height=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">",
      escape(title), width, kHeight + 30);
  for (size_t i = 0; i < bars.size(); ++i) {
    const double h = kHeight * bars[i].second / top;
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: "
        "{}</title></rect>",
        10 + i * kBar, kHeight - h, kBar - 4, h, colour, escape(bars[i].first), bars[i].second);
    if (bars.size() <= 12) {
      svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"9\">{}</text>", 10 + i * kBar,
                         kHeight + 12, escape(bars[i].first.substr(0, 8)));
    }
  }
  return svg + "</svg></figure>\n";
}

}  // namespace

void write_html_report(const RunFacts& f, const Verdict& verdict,
                       const std::optional<std::vector<LabelRow>>& labels) {
  if (!f.mined) return;  // nothing to show: Mining_Report.md says why
  table::Database db;
  const fs::path pairs = mine::pairs_path_for(f.run_dir / "mined.parquet");
  const fs::path thumbs = f.run_dir / "thumbs";
  fs::create_directories(thumbs);
  const bool target_labels = has_label(db, f.targets.embeddings);
  const bool pool_labels = has_label(db, f.pool.embeddings);
  const fs::path target_base = path_base(db, f.targets.embeddings);
  const fs::path pool_base = path_base(db, f.pool.embeddings);

  const auto targets = rows_of(
      db, fmt::format("SELECT file_row_number::VARCHAR, filepath, {} FROM read_parquet({}, "
                      "file_row_number = true) WHERE file_row_number < {} ORDER BY 1::BIGINT",
                      target_labels ? "label::VARCHAR" : "NULL", quoted(f.targets.embeddings),
                      kMaxHtmlTargets));
  const auto pair_rows = rows_of(
      db, fmt::format(
              "SELECT p.target_row::VARCHAR, p.pool_row::VARCHAR, p.filepath, p.rank::VARCHAR, "
              "printf('%.4f', p.distance), p.kept::VARCHAR, coalesce(p.dropped_by, ''), {} "
              "FROM read_parquet({}) p {} WHERE p.target_row < {} ORDER BY p.target_row, p.rank",
              pool_labels ? "s.label::VARCHAR" : "NULL", quoted(pairs),
              pool_labels ? fmt::format("LEFT JOIN (SELECT file_row_number AS r, label FROM "
                                        "read_parquet({}, file_row_number = true)) s ON s.r = "
                                        "p.pool_row",
                                        quoted(f.pool.embeddings))
                          : "",
              kMaxHtmlTargets));
  std::map<std::string, std::vector<const std::vector<std::string>*>> by_target;
  for (const auto& row : pair_rows)
    by_target[row[0]].push_back(&row);

  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>deft mining report</title><style>"
      "body{{font-family:sans-serif;margin:1.5em;color:#222}}"
      ".verdict{{font-size:1.3em;font-weight:bold}}"
      ".target{{display:flex;gap:10px;align-items:flex-start;border-top:1px solid #ccc;"
      "padding:8px 0}}"
      ".card{{width:136px;font-size:11px;word-break:break-all}}"
      ".card img{{max-width:128px;max-height:128px;display:block}}"
      ".query{{background:#eef4ff;padding:4px}}.dropped{{opacity:.45}}"
      ".badge{{display:inline-block;background:#555;color:#fff;border-radius:3px;"
      "padding:0 4px;margin:2px 0}}.missing{{width:128px;height:96px;background:#eee;"
      "display:flex;align-items:center;justify-content:center}}"
      "figure{{display:inline-block;margin:0 2em 1em 0}}"
      "</style></head><body>\n<h1>Mining report</h1>\n<p class=\"verdict\">{}</p>\n",
      escape(verdict.line));
  const mine::MineReport& m = *f.mined;
  html += fmt::format(
      "<p>{} targets, pool of {}, top {} by {} distance: {} pairs, {} dropped by label, {} by "
      "threshold, {} duplicates removed, <b>{} unique images mined</b>. Details: "
      "<a href=\"Mining_Report.md\">Mining_Report.md</a>.</p>\n",
      m.queries, m.pool_size, f.mining.topn, index::metric_name(f.mining.metric), m.neighbours,
      m.dropped_by_label, m.dropped_by_threshold, m.duplicates_removed, m.unique_mined);

  // Charts: kept pair distances, and per-label counts.
  std::vector<double> distances;
  for (const auto& row : pair_rows) {
    if (row[5] == "true") distances.push_back(std::stod(row[4]));
  }
  if (!distances.empty()) {
    const auto [lo, hi] = std::minmax_element(distances.begin(), distances.end());
    constexpr int kBins = 20;
    std::vector<std::pair<std::string, double>> bins(kBins);
    const double width = std::max(*hi - *lo, 1e-12) / kBins;
    for (int b = 0; b < kBins; ++b)
      bins[b] = {fmt::format("{:.3f}–{:.3f}", *lo + b * width, *lo + (b + 1) * width), 0};
    for (double d : distances)
      bins[std::min(kBins - 1, static_cast<int>((d - *lo) / width))].second += 1;
    html += svg_bars(bins, "#4a7bd0",
                     fmt::format("Distances of kept pairs (first {} targets), {:.3f} to {:.3f}",
                                 kMaxHtmlTargets, *lo, *hi));
  }
  if (labels && !labels->empty()) {
    std::vector<std::pair<std::string, double>> mined;
    for (const LabelRow& r : *labels)
      mined.emplace_back(r.label, static_cast<double>(r.mined));
    html += svg_bars(mined, "#d08a4a", "Mined images per label");
  }

  if (m.queries > kMaxHtmlTargets) {
    html +=
        fmt::format("<p>The first {} of {} targets are shown.</p>\n", kMaxHtmlTargets, m.queries);
  }
  const auto card = [&](const fs::path& image, const std::string& thumb_name,
                        const std::string& caption, const std::string& css) {
    const bool ok = make_thumbnail(image, thumbs / thumb_name);
    return fmt::format("<div class=\"card {}\">{}<div>{}</div></div>", css,
                       ok ? fmt::format("<img src=\"thumbs/{}\" alt=\"\">", thumb_name)
                          : "<div class=\"missing\">unreadable</div>",
                       caption);
  };
  const auto badge = [](const std::string& label) {
    return label.empty() ? std::string() : "<span class=\"badge\">" + escape(label) + "</span><br>";
  };
  for (const auto& t : targets) {
    html += "<div class=\"target\">";
    html += card(resolve(target_base, t[1]), "t_" + t[0] + ".jpg",
                 badge(t[2]) + "target " + t[0] + "<br>" + escape(t[1]), "query");
    for (const auto* p : by_target[t[0]]) {
      const auto& r = *p;
      const bool kept = r[5] == "true";
      html += card(resolve(pool_base, r[2]), "p_" + r[1] + ".jpg",
                   badge(r[7]) + fmt::format("#{} · {}", r[3], r[4]) +
                       (kept ? "" : " · dropped (" + escape(r[6]) + ")") + "<br>" + escape(r[2]),
                   kept ? "" : "dropped");
    }
    html += "</div>\n";
  }
  html += "</body></html>\n";
  write_file_atomically(f.run_dir / "report.html", html);
}

}  // namespace deft::report
