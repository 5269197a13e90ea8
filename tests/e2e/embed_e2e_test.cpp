// `deft embed` as users run it: a folder of mixed images with broken files among them, a run
// killed and resumed, a re-run that reuses unchanged rows, and embeddings of image files
// against the encoder fixtures' PyTorch reference.
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_writer.h"
#include "kernels/onednn_linear.h"
#include "ppm.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::quoted;
using testing::run_process;
using testing::ScratchDir;
using testing::sql_exec;
using testing::sql_rows;

testing::ProcessResult deft(std::vector<std::string> args, const fs::path& cwd = {}) {
  return testing::run_deft_binary(std::move(args), cwd);
}

std::string one(table::Database& db, const std::string& sql) {
  const auto rows = sql_rows(db, sql);
  return rows.size() == 1 && rows[0].size() == 1 ? rows[0][0] : "(not one value)";
}

// A folder of good images in every format and several modes, plus a table naming them.
struct ImageSet {
  std::vector<std::string> filepaths;  // as written in the table
};

ImageSet write_images(const fs::path& root, const std::string& folder, int count, unsigned seed) {
  struct Kind {
    const char* ext;
    int bands;
  };
  const Kind kinds[] = {{"jpg", 3},  {"png", 3},  {"webp", 3}, {"tiff", 3}, {"gif", 3},
                        {"bmp", 3},  {"jpg", 1},  {"png", 1},  {"png", 4},  {"png", 2},
                        {"webp", 4}, {"tiff", 1}, {"tiff", 4}};
  ImageSet set;
  fs::create_directories(root / folder / "sub");
  for (int i = 0; i < count; ++i) {
    const Kind& k = kinds[i % std::size(kinds)];
    const std::string name =
        fmt::format("{}{}/img{:04}_{}b.{}", folder, i % 5 == 0 ? "/sub" : "", i, k.bands, k.ext);
    testing::write_image(root / name, 16 + (i * 7) % 50, 12 + (i * 11) % 40, k.bands,
                         seed * 1000 + static_cast<unsigned>(i));
    set.filepaths.push_back(name);
  }
  return set;
}

// Writes a parquet table (id, filepath, label, score, tags) through DuckDB SQL.
void write_table(table::Database& db, const fs::path& path,
                 const std::vector<std::optional<std::string>>& filepaths) {
  std::string values;
  for (size_t i = 0; i < filepaths.size(); ++i) {
    values +=
        fmt::format("{}({}, {}, 'L{}', {}, [{}, {}])", i ? ", " : "", i,
                    filepaths[i] ? "'" + *filepaths[i] + "'" : "NULL", i % 3, i * 0.25, i, i + 1);
  }
  sql_exec(db, fmt::format("COPY (SELECT * FROM (VALUES {}) t(id, filepath, label, score, tags)) "
                           "TO {} (FORMAT parquet)",
                           values, quoted(path)));
}

// A PNG whose header claims 50000 × 50000 pixels, with a token of (invalid) pixel data.
std::string png_bomb() {
  const auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const auto chunk = [&](const std::string& kind, const std::string& data) {
    const std::string body = kind + data;
    uint32_t crc = 0xFFFFFFFFU;  // CRC-32, zlib's polynomial
    for (unsigned char c : body) {
      crc ^= c;
      for (int k = 0; k < 8; ++k)
        crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
    }
    return be32(static_cast<uint32_t>(data.size())) + body + be32(~crc);
  };
  return std::string("\x89PNG\r\n\x1A\n", 8) +
         chunk("IHDR", be32(50000) + be32(50000) + std::string("\x08\x02\x00\x00\x00", 5)) +
         chunk("IDAT", std::string("\x78\x9c\x63\x00\x00", 5)) + chunk("IEND", "");
}

TEST(EmbedEndToEnd, MixedFormatsAndBrokenFilesEveryGoodImageOnceEveryBrokenOneWithItsReason) {
  ScratchDir dir;
  const ImageSet good = write_images(dir.path(), "images", 260, 1);

  // Broken files: each with the reason the sidecar must give.
  const fs::path broken = dir / "broken";
  fs::create_directories(broken / "a_folder.jpg");
  testing::write_text_file(broken / "empty.jpg", "");
  const std::string jpeg = testing::read_text_file(dir / good.filepaths[0]);
  testing::write_text_file(broken / "truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  const std::string png = testing::read_text_file(dir / good.filepaths[1]);
  testing::write_text_file(broken / "truncated.png", png.substr(0, png.size() / 2));
  testing::write_text_file(broken / "notes.jpg", "these are my notes, not a picture\n");
  testing::write_text_file(broken / "garbage.jpg",
                           std::string("\xFF\xD8\xFF\xE0", 4) + std::string(500, 'x'));
  testing::write_text_file(broken / "document.pdf", "%PDF-1.4\n1 0 obj\n<<>>\nendobj\n");
  testing::write_text_file(broken / "bomb.png", png_bomb());
  ASSERT_EQ(::mkfifo((broken / "pipe.jpg").c_str(), 0600), 0);
  fs::create_symlink(broken / "nowhere.jpg", broken / "dangling.jpg");
  const std::vector<std::pair<std::optional<std::string>, std::string>> bad = {
      {"broken/missing.jpg", "no such file"},
      {"broken/empty.jpg", "empty file"},
      {"broken/truncated.jpg", "JPEG"},
      {"broken/truncated.png", "PNG"},
      {"broken/notes.jpg", "not an image deft reads"},
      {"broken/garbage.jpg", "JPEG"},
      {"broken/document.pdf", "not an image deft reads"},
      {"broken/bomb.png", "50000×50000 PNG is 2500000000 pixels, over the limit"},
      {"broken/pipe.jpg", "is a pipe (FIFO), not a file"},
      {"broken/a_folder.jpg", "is a folder, not a file"},
      {"broken/dangling.jpg", "no such file"},
      {std::nullopt, "filepath is NULL"},
      {"", "filepath is empty"},
  };

  // The table: good rows with a broken one every 20 rows; some paths absolute.
  std::vector<std::optional<std::string>> rows;
  std::vector<size_t> good_rows, bad_rows;
  size_t next_bad = 0;
  for (size_t i = 0; i < good.filepaths.size(); ++i) {
    if (i % 20 == 7 && next_bad < bad.size()) {
      bad_rows.push_back(rows.size());
      rows.push_back(bad[next_bad++].first);
    }
    good_rows.push_back(rows.size());
    rows.push_back(i % 9 == 0 ? (dir / good.filepaths[i]).string() : good.filepaths[i]);
  }
  while (next_bad < bad.size()) {
    bad_rows.push_back(rows.size());
    rows.push_back(bad[next_bad++].first);
  }
  table::Database db;
  write_table(db, dir / "table.parquet", rows);

  const fs::path out = dir / "out" / "emb.parquet";
  fs::create_directories(out.parent_path());
  auto r = deft({"embed", "input_parquet=" + (dir / "table.parquet").string(),
                 "output_parquet=" + out.string(), "model=thumbnail", "batch_size=7",
                 "chunk_rows=50", "threads=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The final summary line: counts, where the failures are, time and rate.
  EXPECT_THAT(r.err, ::testing::ContainsRegex(fmt::format(
                         "embedded '{}': {} rows in, 260 embedded, 0 reused, 13 failed \\(listed "
                         "in '{}'\\); [0-9.]+ s, [0-9.]+ images/s\n",
                         out.string(), rows.size(), out.string() + ".failed.parquet")));

  // Every good image exactly once, in input order, with its carried columns intact.
  const std::string o = quoted(out);
  const std::string t = quoted(dir / "table.parquet");
  const auto ids = sql_rows(db, "SELECT id FROM " + o);
  ASSERT_EQ(ids.size(), good_rows.size());
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ids[i][0], std::to_string(good_rows[i])) << "output row " << i;
  EXPECT_EQ(one(db, "SELECT count(DISTINCT filepath) FROM " + o), "260");
  EXPECT_EQ(one(db, "SELECT count(*) FROM " + o + " o JOIN " + t +
                        " i USING (id) WHERE o.filepath = i.filepath AND o.label = i.label AND "
                        "o.score = i.score AND o.tags = i.tags"),
            "260");
  EXPECT_EQ(sql_rows(db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + o + ")"),
            (std::vector<std::vector<std::string>>{
                {"id", "INTEGER"},
                {"filepath", "VARCHAR"},
                {"label", "VARCHAR"},
                {"score", "DECIMAL(12,2)"},
                {"tags", "INTEGER[]"},
                {"embedding", "FLOAT[]"},
                {"deft_file", "STRUCT(size BIGINT, mtime_ns BIGINT, xxh3_128 VARCHAR)"}}));
  // Thumbnail embeddings: 768 values, unit length.
  EXPECT_EQ(one(db, "SELECT count(*) FROM " + o +
                        " WHERE len(embedding) = 768 AND abs(sqrt(list_sum(list_transform("
                        "embedding, x -> x * x))) - 1) < 1e-5"),
            "260");
  // File identities: the size on disk.
  for (size_t i : {size_t{0}, size_t{100}, size_t{259}}) {
    const std::string path = *rows[good_rows[i]];
    EXPECT_EQ(
        one(db, fmt::format("SELECT deft_file.size FROM {} WHERE id = {}", o, good_rows[i])),
        std::to_string(fs::file_size(fs::path(path).is_absolute() ? fs::path(path) : dir / path)));
  }

  // Every broken one in the sidecar, in input order, with its reason.
  const auto failed = sql_rows(db, "SELECT filepath, reason, input_row FROM " +
                                       quoted(dir / "out/emb.parquet.failed.parquet"));
  ASSERT_EQ(failed.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(failed[i][0]);
    EXPECT_EQ(failed[i][0], bad[i].first ? *bad[i].first : "NULL");
    EXPECT_THAT(failed[i][1], HasSubstr(bad[i].second));
    EXPECT_EQ(failed[i][2], std::to_string(bad_rows[i]));
  }
  // The counts and the encoder in the key-value metadata; no work folder left behind.
  EXPECT_EQ(one(db, "SELECT decode(value) FROM parquet_kv_metadata(" + o +
                        ") WHERE key = 'deft.failures'"),
            "13");
  EXPECT_THAT(one(db, "SELECT decode(value) FROM parquet_kv_metadata(" + o +
                          ") WHERE key = 'deft.encoder'"),
              HasSubstr("\"family\":\"thumbnail\""));
  EXPECT_EQ(testing::directory_entries(out.parent_path()),
            (std::vector<std::string>{"emb.parquet", "emb.parquet.failed.parquet"}));

  // strict=true: the first failure stops the run, naming it; nothing is written.
  const fs::path strict_out = dir / "strict.parquet";
  r = deft({"embed", "input_parquet=" + (dir / "table.parquet").string(),
            "output_parquet=" + strict_out.string(), "model=thumbnail", "strict=true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(fmt::format("'broken/missing.jpg' (input row {}): no such file",
                                           bad_rows[0])));
  EXPECT_FALSE(fs::exists(strict_out));

  // --quiet: no progress and no summary; the same output.
  const fs::path quiet_out = dir / "quiet.parquet";
  r = deft({"embed", "input_parquet=" + (dir / "table.parquet").string(),
            "output_parquet=" + quiet_out.string(), "model=thumbnail", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(one(db, "SELECT count(*) FROM " + quoted(quiet_out)), "260");
}

// Every row of `path`, every column rendered as text (floats round-trip exactly), in file order.
std::vector<std::vector<std::string>> all_rows(table::Database& db, const fs::path& path) {
  return sql_rows(db, "SELECT * FROM " + quoted(path));
}

TEST(EmbedEndToEnd, RunsKilledAtRandomPointsResumeToTheUninterruptedOutput) {
  ScratchDir dir;
  const ImageSet images = write_images(dir.path(), "images", 400, 2);
  table::Database db;
  std::vector<std::optional<std::string>> rows(images.filepaths.begin(), images.filepaths.end());
  rows.insert(rows.begin() + 150, "images/missing.jpg");  // a failure inside a chunk
  write_table(db, dir / "table.parquet", rows);
  const fs::path model = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny/siglip";
  const auto command = [&](const fs::path& out) {
    return std::vector<std::string>{DEFT_BINARY,
                                    "embed",
                                    "input_parquet=" + (dir / "table.parquet").string(),
                                    "output_parquet=" + out.string(),
                                    "model=SigLIP",
                                    "model_path=" + model.string(),
                                    "batch_size=3",
                                    "chunk_rows=16",
                                    "threads=2"};
  };
  const auto started = std::chrono::steady_clock::now();
  auto r = run_process(command(dir / "reference.parquet"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto expected = all_rows(db, dir / "reference.parquet");
  ASSERT_EQ(expected.size(), 400U);
  const auto expected_failed = all_rows(db, dir / "reference.parquet.failed.parquet");

  std::mt19937 rng(20261124);
  int resumed = 0;
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE(run);
    const fs::path out = dir / fmt::format("run{}.parquet", run);
    // Killed at a random point of the run, then started again to completion. A run that
    // finished its output before its kill is tried again, killed earlier.
    bool killed = false;
    for (double latest = 0.8 * seconds; !killed && latest > 0.01; latest /= 2) {
      std::uniform_real_distribution<double> when(0.1 * latest, latest);
      fs::remove(out);
      const pid_t pid = testing::start_process(command(out));
      std::this_thread::sleep_for(std::chrono::duration<double>(when(rng)));
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      // Killed before its output was in place (a kill during exit does not count).
      killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !fs::exists(out);
    }
    ASSERT_TRUE(killed);
    r = run_process(command(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    resumed += r.err.find("resuming:") != std::string::npos;
    EXPECT_EQ(all_rows(db, out), expected);  // embeddings bit for bit, rows in order
    EXPECT_EQ(all_rows(db, dir / fmt::format("run{}.parquet.failed.parquet", run)),
              expected_failed);
    EXPECT_FALSE(fs::exists(dir / fmt::format(".run{}.parquet.deft-partial", run)));
  }
  EXPECT_GE(resumed, 1) << "no kill landed after a finished chunk (uninterrupted run: " << seconds
                        << " s)";
}

// A resume keeps the finished chunks when only batch_size or threads changed, in fp32, whose
// vectors do not depend on them (shown here: three settings give one output, bit for bit).
// bf16 vectors may (other kernel blockings), so its chunks are embedded again, and the log
// says which settings changed and why. The kill lands after the 2nd finished chunk
// (DEFT_FAULT_KILL_AFTER_CHUNKS: a SIGKILL the process sends itself).
TEST(EmbedEndToEnd, FinishedChunksSurviveANewBatchSizeOrThreadCountInFp32) {
  ScratchDir dir;
  const ImageSet images = write_images(dir.path(), "images", 100, 4);
  table::Database db;
  write_table(
      db, dir / "table.parquet",
      std::vector<std::optional<std::string>>(images.filepaths.begin(), images.filepaths.end()));
  const fs::path model = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny/siglip";
  const auto embed = [&](const std::string& out, const std::string& precision, int batch,
                         int threads, bool killed) {
    const std::vector<std::string> args = {DEFT_BINARY,
                                           "embed",
                                           "input_parquet=" + (dir / "table.parquet").string(),
                                           "output_parquet=" + (dir / out).string(),
                                           "model=SigLIP",
                                           "model_path=" + model.string(),
                                           "precision=" + precision,
                                           "batch_size=" + std::to_string(batch),
                                           "threads=" + std::to_string(threads),
                                           "chunk_rows=16"};
    const std::vector<std::string> env = {"DEFT_FAULT_KILL_AFTER_CHUNKS=2"};
    return run_process(args, killed ? &env : nullptr);
  };
  auto r = embed("a.parquet", "fp32", 7, 1, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto expected = all_rows(db, dir / "a.parquet");
  ASSERT_EQ(expected.size(), 100U);
  for (const auto& [batch, threads] : std::vector<std::pair<int, int>>{{3, 2}, {64, 2}}) {
    r = embed("b.parquet", "fp32", batch, threads, false);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(all_rows(db, dir / "b.parquet"), expected) << batch << " " << threads;
  }

  r = embed("c.parquet", "fp32", 7, 1, true);
  ASSERT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  r = embed("c.parquet", "fp32", 3, 2, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("resuming: 2 of 7 chunks of 16 rows"));
  EXPECT_EQ(all_rows(db, dir / "c.parquet"), expected);

  if (!kernels::cpu_has_bf16()) return;  // precision=bf16 is refused on this CPU
  r = embed("d.parquet", "bf16", 7, 1, true);
  ASSERT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  r = embed("d.parquet", "bf16", 3, 2, false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not resuming the earlier run's finished chunks"));
  EXPECT_THAT(r.err, HasSubstr("batch_size, threads changed (bf16 results depend on the batch"));
  EXPECT_THAT(r.err, Not(HasSubstr("resuming: ")));
}

TEST(EmbedEndToEnd, ASecondRunEmbedsOnlyNewAndChangedFilesAndReusesTheRest) {
  ScratchDir dir;
  ImageSet images = write_images(dir.path(), "images", 200, 3);
  table::Database db;
  const auto table_of = [&](const ImageSet& set) {
    write_table(
        db, dir / "table.parquet",
        std::vector<std::optional<std::string>>(set.filepaths.begin(), set.filepaths.end()));
  };
  table_of(images);
  const fs::path out = dir / "emb.parquet";
  const std::vector<std::string> command = {
      "embed", "input_parquet=" + (dir / "table.parquet").string(),
      "output_parquet=" + out.string(), "model=thumbnail", "chunk_rows=64"};
  auto r = deft(command);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("200 rows in, 200 embedded, 0 reused, 0 failed"));
  sql_exec(db, "CREATE TABLE first AS SELECT filepath, embedding FROM " + quoted(out));

  // 10 files changed (new pixels, a later mtime) and 10 added.
  for (int i = 0; i < 200; i += 20) {
    const fs::path path = dir / images.filepaths[static_cast<size_t>(i)];
    testing::write_image(path, 40, 30, 3, 99000U + static_cast<unsigned>(i));
    fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  }
  const ImageSet added = write_images(dir.path(), "more", 10, 4);
  images.filepaths.insert(images.filepaths.end(), added.filepaths.begin(), added.filepaths.end());
  table_of(images);
  r = deft(command);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("210 rows in, 20 embedded, 190 reused, 0 failed"));
  EXPECT_EQ(one(db, "SELECT decode(value) FROM parquet_kv_metadata(" + quoted(out) +
                        ") WHERE key = 'deft.reused'"),
            "190");
  // Reused rows are the first run's vectors; changed ones are new.
  EXPECT_EQ(one(db, "SELECT count(*) FROM " + quoted(out) +
                        " o JOIN first f USING (filepath) WHERE o.embedding = f.embedding"),
            "190");
  EXPECT_EQ(one(db, "SELECT count(*) FROM " + quoted(out)), "210");

  // By content: files moved to another folder are still recognised by their bytes.
  fs::rename(dir / "images", dir / "moved");
  for (std::string& p : images.filepaths) {
    if (p.starts_with("images/")) p = "moved/" + p.substr(7);
  }
  table_of(images);
  r = deft({"embed", "input_parquet=" + (dir / "table.parquet").string(),
            "output_parquet=" + out.string(), "model=thumbnail", "reuse_key=content"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("210 rows in, 0 embedded, 210 reused, 0 failed"));
}

// deft embed on image files (PNGs of the fixture images, photo-like JPEGs) against the PyTorch
// reference of tests/data/generate_tiny_models.py (JPEGs decoded there by Pillow).
struct FileParity {
  double worst_relative_error = 0;  // max |deft − ref| / max |ref|, over every file
  double worst_cosine = 1;
  double worst_jpeg_cosine = 1;
};

FileParity embed_files_against_reference(const std::string& folder,
                                         const std::vector<std::string>& options) {
  ScratchDir dir;
  const fs::path tiny = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny";
  std::ifstream in(tiny / "reference.json");
  const nlohmann::json ref = nlohmann::json::parse(in)["models"][folder];
  std::vector<std::optional<std::string>> rows;
  std::map<std::string, std::vector<double>> expected;
  for (const auto& [name, embedding] : ref["embeddings"].items()) {
    testing::write_rgb_image(dir / (name + ".png"),
                             testing::read_ppm(tiny / "images" / (name + ".ppm")));
    rows.push_back(name + ".png");
    expected[name + ".png"] = embedding.get<std::vector<double>>();
  }
  for (const auto& [name, embedding] : ref["file_embeddings"].items()) {
    rows.push_back((tiny / "files" / name).string());
    expected[rows.back().value()] = embedding.get<std::vector<double>>();
  }
  table::Database db;
  write_table(db, dir / "table.parquet", rows);
  std::vector<std::string> args = {"embed",
                                   "input_parquet=" + (dir / "table.parquet").string(),
                                   "output_parquet=" + (dir / "out.parquet").string(),
                                   "model=" + ref["family"].get<std::string>(),
                                   "model_path=" + (tiny / folder).string(),
                                   "batch_size=3"};
  args.insert(args.end(), options.begin(), options.end());
  const auto r = deft(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  FileParity parity;
  const auto got = sql_rows(db, "SELECT filepath, embedding FROM " + quoted(dir / "out.parquet"));
  EXPECT_EQ(got.size(), rows.size());
  for (const auto& row : got) {
    const std::vector<double>& e = expected.at(row[0]);
    const auto values = nlohmann::json::parse(row[1]).get<std::vector<double>>();
    EXPECT_EQ(values.size(), e.size());
    double scale = 0, error = 0, dot = 0, a2 = 0, b2 = 0;
    for (size_t k = 0; k < std::min(values.size(), e.size()); ++k) {
      scale = std::max(scale, std::abs(e[k]));
      error = std::max(error, std::abs(values[k] - e[k]));
      dot += values[k] * e[k];
      a2 += values[k] * values[k];
      b2 += e[k] * e[k];
    }
    const double cosine = dot / std::sqrt(a2 * b2);
    parity.worst_relative_error = std::max(parity.worst_relative_error, error / scale);
    parity.worst_cosine = std::min(parity.worst_cosine, cosine);
    if (row[0].ends_with(".jpg"))
      parity.worst_jpeg_cosine = std::min(parity.worst_jpeg_cosine, cosine);
  }
  return parity;
}

class EmbedFileParity : public ::testing::TestWithParam<std::string> {};

TEST_P(EmbedFileParity, EmbeddingsOfImageFilesMatchThePyTorchReference) {
  const std::string folder = GetParam();
  // fp32 without shrink-on-load: the encoder issue's fp32 tolerance, end to end.
  const FileParity exact =
      embed_files_against_reference(folder, {"precision=fp32", "shrink_on_load=false"});
  EXPECT_LE(exact.worst_relative_error, 1e-4);
  // Shrink-on-load decodes the JPEGs at 1/2–1/4 scale: within the bf16 tolerance (cos ≥ 0.999).
  const FileParity shrunk =
      embed_files_against_reference(folder, {"precision=fp32", "shrink_on_load=true"});
  EXPECT_GE(shrunk.worst_jpeg_cosine, 0.999);
  std::cout << "[ RESULT   ] " << folder << ": fp32 worst relative error "
            << exact.worst_relative_error << "; shrink-on-load worst JPEG cosine "
            << shrunk.worst_jpeg_cosine << "\n";
  if (kernels::cpu_has_bf16()) {
    const FileParity bf16 = embed_files_against_reference(folder, {"precision=bf16"});
    EXPECT_GE(bf16.worst_cosine, 0.999);
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, EmbedFileParity,
                         ::testing::Values("siglip", "clip", "dinov2", "siglip_48x40"));

}  // namespace
}  // namespace deft
