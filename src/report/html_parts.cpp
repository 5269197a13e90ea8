#include "report/html_parts.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "common/text.h"
#include "embed/image_file.h"
#include "embed/reuse_index.h"
#include "image/decode.h"
#include "image/image_file_writer.h"
#include "mine/input_checks.h"
#include "preprocess/pillow_resize.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::report {

namespace fs = std::filesystem;

namespace {

constexpr int kThumbSize = 128;
constexpr size_t kMaxHtmlFailures = 1000;  // per side; the sidecar holds them all

}  // namespace

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

std::string with_code(std::string_view text) {
  std::string out;
  bool open = false;
  for (size_t start = 0;;) {
    const size_t tick = text.find('`', start);
    out += escape(text.substr(start, tick - start));
    if (tick == std::string_view::npos) break;
    out += open ? "</code>" : "<code>";
    open = !open;
    start = tick + 1;
  }
  return open ? out + "</code>" : out;
}

std::string file_url(const fs::path& path) {
  std::string url = "file://";
  for (const unsigned char c : fs::absolute(path).string()) {
    if (std::isalnum(c) ||
        std::string_view("-._~/").find(static_cast<char>(c)) != std::string_view::npos) {
      url += static_cast<char>(c);
    } else {
      url += fmt::format("%{:02X}", c);
    }
  }
  return url;
}

std::string quoted(const fs::path& p) {
  return table::sql_string_literal(p.string());
}

Rows rows_of(table::Database& db, const std::string& sql) {
  Rows rows;
  for (const auto& row : table::read_query_text(db, sql, "the visual report")) {
    std::vector<std::string> text;
    for (const auto& value : row)
      text.push_back(value.value_or(""));
    rows.push_back(std::move(text));
  }
  return rows;
}

bool has_label(table::Database& db, const fs::path& parquet) {
  table::TableReader reader(db, parquet, {.filepath_column = mine::key_column(db, parquet)});
  return reader.label_column().has_value();
}

fs::path path_base(table::Database& db, const fs::path& parquet) {
  const auto metadata = table::read_kv_metadata(db, parquet);
  const auto it = metadata.find(embed::kPathBaseKey);
  return it == metadata.end() ? parquet.parent_path() : fs::path(it->second);
}

// Writes thumbs/<name>.jpg for the image at `filepath`; false when it cannot be read.
namespace {

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

}  // namespace

std::string text_card(const std::string& prompt, const std::string& caption) {
  return "<div class=\"card query text\"><div class=\"prompt\">" + escape(prompt) +
         "</div><div class=\"caption\">" + caption + "</div></div>";
}

fs::path resolve(const fs::path& base, const std::string& filepath) {
  const fs::path p(filepath);
  return p.is_absolute() ? p : base / p;
}

// ---- charts ----

namespace {

std::string svg_text(double x, double y, const char* css, const char* anchor,
                     std::string_view text) {
  return fmt::format("<text class=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\">{}</text>",
                     css, x, y, anchor, escape(text));
}

std::string svg_x_ticks(const BarChart& c, int left, int plot_width, int bar, int base) {
  std::string svg;
  if (c.x_range) {
    const auto [lo, hi] = *c.x_range;
    for (int i = 0; i <= 2; ++i) {
      const double x = left + plot_width * i / 2.0;
      svg +=
          fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#444\"/>",
                      x, base, base + 4);
      svg += svg_text(x, base + 15, "tick",
                      i == 0   ? "start"
                      : i == 1 ? "middle"
                               : "end",
                      fmt::format("{:.3f}", lo + (hi - lo) * i / 2.0));
    }
  } else if (c.bars.size() <= 12) {  // names of more bars would overlap
    for (size_t i = 0; i < c.bars.size(); ++i) {
      svg +=
          svg_text(left + 2.0 + i * bar, base + 15, "tick", "start", c.bars[i].first.substr(0, 8));
    }
  }
  return svg;
}

std::string svg_y_ticks(uint64_t top, int left, int plot_top, int plot_height) {
  std::vector<uint64_t> ticks = {0, top};
  if (top >= 2) ticks.insert(ticks.begin() + 1, (top + 1) / 2);
  std::string svg;
  for (const uint64_t v : ticks) {
    const double y = plot_top + plot_height - plot_height * static_cast<double>(v) / top;
    svg += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#444\"/>",
                       left - 4, y, left, y);
    svg += svg_text(left - 6, y + 4, "tick", "end", std::to_string(v));
  }
  return svg;
}

}  // namespace

std::string svg_chart(const BarChart& c, const char* colour) {
  constexpr int kLeft = 52, kTop = 14, kPlotHeight = 140, kBottom = 40;
  const int bar = c.bars.size() <= 12 ? 48 : 22;  // room for the names under few bars
  const int plot_width = std::max(160, static_cast<int>(c.bars.size()) * bar);
  const int width = kLeft + plot_width + 12;
  const int height = kTop + kPlotHeight + kBottom;
  const int base = kTop + kPlotHeight;
  uint64_t top = 1;
  for (const auto& b : c.bars)
    top = std::max(top, b.second);
  std::string svg = fmt::format(
      "<figure><figcaption>{}</figcaption><svg width=\"{}\" height=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\">",
      escape(c.caption), width, height);
  for (size_t i = 0; i < c.bars.size(); ++i) {
    const auto& [name, n] = c.bars[i];
    const double h = kPlotHeight * static_cast<double>(n) / top;
    const double x = kLeft + 2.0 + i * bar;
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: "
        "{} {}</title></rect>",
        x, base - h, bar - 4, h, colour, escape(name), n, escape(c.y_axis));
    if (n > 0)
      svg += svg_text(x + (bar - 4) / 2.0, base - h - 3, "count", "middle", std::to_string(n));
  }
  svg += fmt::format("<path d=\"M{0} {1} V{2} H{3}\" fill=\"none\" stroke=\"#444\"/>", kLeft, kTop,
                     base, kLeft + plot_width);
  svg += svg_y_ticks(top, kLeft, kTop, kPlotHeight);
  svg += svg_x_ticks(c, kLeft, plot_width, bar, base);
  svg += svg_text(kLeft + plot_width / 2.0, height - 4, "axis-label", "middle", c.x_axis);
  svg += fmt::format(
      "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"{:.1f}\" y=\"12\" "
      "text-anchor=\"middle\">{}</text>",
      -(kTop + kPlotHeight / 2.0), escape(c.y_axis));
  return svg + "</svg></figure>\n";
}

// ---- failures ----

namespace {

// The failures sidecar of one side: the step's own, or the one beside an embedding file that
// this run took as it was.
fs::path failures_of(const Side& side) {
  if (side.embed) return side.embed->failed_path;
  const fs::path beside = embed::failed_path_for(side.embeddings);
  std::error_code ec;
  return fs::is_regular_file(beside, ec) ? beside : fs::path();
}

std::string failure_rows(table::Database& db, const char* name, const fs::path& sidecar) {
  if (sidecar.empty()) return "";
  std::string html;
  const Rows rows = rows_of(
      db, fmt::format("SELECT input_row::VARCHAR, coalesce(filepath, '(NULL)'), reason, "
                      "count(*) OVER ()::VARCHAR FROM read_parquet({}) ORDER BY input_row LIMIT {}",
                      quoted(sidecar), kMaxHtmlFailures));
  for (const auto& r : rows) {
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", name, r[0],
                        escape(r[1]), escape(r[2]));
  }
  if (!rows.empty() && std::stoull(rows[0][3]) > rows.size()) {
    html += fmt::format("<tr><td colspan=\"4\">{} more in {}</td></tr>\n",
                        std::stoull(rows[0][3]) - rows.size(), escape(sidecar.string()));
  }
  return html;
}

}  // namespace

std::string failures_table(table::Database& db, const RunFacts& f) {
  const std::string rows = failure_rows(db, "targets", failures_of(f.targets)) +
                           failure_rows(db, "pool", failures_of(f.pool));
  if (rows.empty()) return "<h2>Failed images</h2>\n<p>No image failed to embed.</p>\n";
  return "<h2>Failed images</h2>\n<p>Left out of the embeddings, so never mined; each side's "
         "<code>*.failed.parquet</code> lists them too.</p>\n<table class=\"failures\"><thead>"
         "<tr><th>side</th><th>input row</th><th>filepath</th><th>reason</th></tr></thead>"
         "<tbody>\n" +
         rows + "</tbody></table>\n";
}

namespace {

// Shows one page of targets at a time and filters them by the text of the target's card
// (label, row, path); `#filter=TEXT` in the address presets the filter. Without it, every
// page is shown with links to each.
constexpr const char* kPagingScript = R"JS(<script>
(function () {
  var perPage = %PAGE%, page = 1;
  var targets = [].slice.call(document.querySelectorAll('.target'));
  var filter = document.getElementById('filter');
  var nav = document.getElementById('pages');
  var shown = document.getElementById('shown');
  function button(text, to, off) {
    var b = document.createElement('button');
    b.type = 'button'; b.dataset.page = to; b.textContent = text; b.disabled = off;
    return b;
  }
  function show() {
    var q = filter.value.trim().toLowerCase();
    var hits = targets.filter(function (t) {
      return t.querySelector('.query').textContent.toLowerCase().indexOf(q) >= 0;
    });
    var pages = Math.max(1, Math.ceil(hits.length / perPage));
    page = Math.min(Math.max(page, 1), pages);
    var from = (page - 1) * perPage, to = Math.min(from + perPage, hits.length);
    targets.forEach(function (t) { t.hidden = true; });
    hits.slice(from, to).forEach(function (t) { t.hidden = false; });
    shown.textContent = hits.length ? 'targets ' + (from + 1) + '–' + to + ' of ' + hits.length
                                    : 'no target matches';
    nav.textContent = '';
    if (pages < 2) return;
    nav.appendChild(button('‹ previous', page - 1, page === 1));
    for (var p = 1; p <= pages; ++p) {
      if (pages <= 15 || p === 1 || p === pages || Math.abs(p - page) <= 3)
        nav.appendChild(button(String(p), p, p === page));
    }
    nav.appendChild(button('next ›', page + 1, page === pages));
  }
  nav.addEventListener('click', function (e) {
    if (!e.target.dataset.page) return;
    page = Number(e.target.dataset.page);
    show();
    nav.scrollIntoView();
  });
  filter.addEventListener('input', function () { page = 1; show(); });
  var preset = /^#filter=(.*)$/.exec(location.hash);
  try { if (preset) filter.value = decodeURIComponent(preset[1]); } catch (e) {}
  filter.hidden = false;
  show();
})();
</script>
)JS";

}  // namespace

std::string badge(const std::string& label) {
  return label.empty() ? std::string() : "<span class=\"badge\">" + escape(label) + "</span><br>";
}

std::string card(const TargetView& v, const fs::path& image, const std::string& thumb_name,
                 const std::string& caption, const std::string& css, bool thumbnail) {
  std::string picture = "<div class=\"nothumb\">open image</div>";
  if (thumbnail) {
    picture = make_thumbnail(image, v.thumbs / thumb_name)
                  ? fmt::format("<img src=\"thumbs/{}\" alt=\"\">", thumb_name)
                  : "<div class=\"missing\">unreadable</div>";
  }
  return fmt::format("<div class=\"card {}\"><a href=\"{}\">{}</a><div>{}</div></div>", css,
                     file_url(image), picture, caption);
}

std::string actions_list(const std::vector<std::string>& actions) {
  std::string html = "<h2>Recommended actions</h2>\n<ul class=\"actions\">\n";
  for (const std::string& a : actions)
    html += "<li>" + with_code(a) + "</li>\n";
  return html + "</ul>\n";
}

std::string thumbnails_words(size_t listed) {
  return listed <= kMaxThumbnailTargets
             ? std::string("with thumbnails")
             : fmt::format("thumbnails for the first {} (the others as plain boxes)",
                           kMaxThumbnailTargets);
}

std::string page_break(size_t i) {
  if (i % kHtmlPageSize != 0) return "";
  return fmt::format("{}<section class=\"page\" id=\"page-{}\">\n", i ? "</section>\n" : "",
                     i / kHtmlPageSize + 1);
}

std::string paging_script() {
  std::string script = kPagingScript;
  script.replace(script.find("%PAGE%"), 6, std::to_string(kHtmlPageSize));
  return script;
}

std::string paging_controls(size_t listed, size_t total) {
  const size_t pages = (listed + kHtmlPageSize - 1) / kHtmlPageSize;
  std::string html = "<div class=\"paging\"><nav id=\"pages\" class=\"pages\">";
  if (pages > 1) {
    html += "Pages:";
    for (size_t p = 1; p <= pages; ++p)
      html += fmt::format(" <a href=\"#page-{0}\">{0}</a>", p);
  }
  html += fmt::format(
      "</nav> <input id=\"filter\" type=\"search\" placeholder=\"filter by label or path\" "
      "hidden> <span id=\"shown\">{} of {} targets listed, {} per page</span></div>\n",
      listed, total, kHtmlPageSize);
  return html;
}

namespace {

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    ".verdict{font-size:1.3em;font-weight:bold}.mixed{color:#a33;font-weight:bold}"
    ".target{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;"
    "border-top:1px solid #ccc;padding:8px 0}"
    ".card{width:136px;font-size:11px;overflow-wrap:anywhere}"
    ".card img{max-width:128px;max-height:128px;display:block}"
    ".card.text{width:200px}.prompt{font-size:14px;padding:6px;background:#f3f3f3;white-space:pre-"
    "wrap}"
    ".query{background:#eef4ff;padding:4px}.dropped{opacity:.45}"
    ".badge{display:inline-block;background:#555;color:#fff;border-radius:3px;"
    "padding:0 4px;margin:2px 0}"
    ".missing,.nothumb{width:128px;height:64px;background:#eee;display:flex;"
    "align-items:center;justify-content:center}"
    "figure{display:inline-block;margin:0 2em 1em 0}"
    "svg .tick,svg .count{font-size:10px}svg .axis-label{font-size:12px}"
    "table{border-collapse:collapse;margin-bottom:1em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;overflow-wrap:anywhere}"
    "tr.zero{background:#fde8e8}.failures td{max-width:40em}"
    ".paging{margin:.5em 0}.pages button{margin:0 2px}";

}  // namespace

std::string html_head(const std::string& title, const Verdict& verdict) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>deft " +
      ascii_lower(title) + "</title><style>" + std::string(kStyle) + "</style></head><body>\n<h1>" +
      escape(title) + "</h1>\n";
  html += "<p class=\"verdict\">" + escape(verdict.line) + "</p>\n<ul>\n";
  for (const std::string& r : verdict.reasons)
    html += "<li>" + with_code(r) + "</li>\n";
  return html + "</ul>\n";
}

}  // namespace deft::report
