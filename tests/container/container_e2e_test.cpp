// The deft image (docker/Dockerfile) as the reference's DS_IMAGE: the documented workflow's
// three commands (`embedding image_embeddings` for targets and pool, `tmm nearest_neighbors`)
// run through it on the demo's data, as a uid the image does not know, and give the same files
// as the native binary. Label `container` (`make test-container` builds the image first with
// scripts/build-container.sh).
//
// The image runs with `podman run --rm --ipc=host --user U:G -v W:W -w W IMAGE …`, the
// documented line minus `--gpus all`. Where the OCI runtime cannot start containers (sandboxes
// without cgroup or rlimit rights), the same image runs under `buildah run --isolation chroot`
// with the same user, volume and working folder; the test prints which one ran.
#include <iostream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using testing::quoted;
using testing::run_process;
using testing::sql_rows;

const char* image() {
  const char* tag = std::getenv("DEFT_IMAGE");  // NOLINT(concurrency-mt-unsafe)
  return tag != nullptr ? tag : "localhost/deft";
}

// Runs `args` through the image in `work` as uid:gid 4242:4242 (unknown to the image).
class ImageRunner {
 public:
  explicit ImageRunner(const fs::path& work) : work_(work) {
    const auto probe = run({"version"});
    if (probe.exit_code == 0) return;
    // The OCI runtime cannot start a container here: fall back to buildah's chroot isolation.
    const auto from = run_process({"/usr/bin/buildah", "from", image()});
    EXPECT_EQ(from.exit_code, 0) << from.err;
    container_ = from.out.substr(0, from.out.find('\n'));
  }
  ~ImageRunner() {
    if (!container_.empty()) run_process({"/usr/bin/buildah", "rm", container_});
  }
  const char* how() const { return container_.empty() ? "podman run" : "buildah run (chroot)"; }

  testing::ProcessResult run(const std::vector<std::string>& args) const {
    const std::string volume = work_.string() + ":" + work_.string();
    std::vector<std::string> argv;
    if (container_.empty()) {
      argv = {"/usr/bin/podman",
              "run",
              "--rm",
              "--ipc=host",
              "--user",
              "4242:4242",
              "-v",
              volume,
              "-w",
              work_.string(),
              image()};
    } else {
      argv = {"/usr/bin/buildah",
              "run",
              "--isolation",
              "chroot",
              "--user",
              "4242:4242",
              "-v",
              volume,
              "--workingdir",
              work_.string(),
              container_,
              "--",
              "/opt/deft/bin/deft"};
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }

 private:
  fs::path work_;
  std::string container_;
};

TEST(Container, TheWorkflowThroughTheImageGivesTheNativeFiles) {
  // A folder every uid can write, at the same path inside and outside (-v W:W -w W).
  const fs::path work = fs::path("/var/tmp") / fmt::format("deft-container-{}", ::getpid());
  fs::remove_all(work);
  fs::create_directories(work);
  const auto demo = testing::run_deft_binary({"demo", "--output-dir", (work / "demo").string()});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  fs::permissions(work, fs::perms::all, fs::perm_options::replace);
  for (const auto& entry : fs::recursive_directory_iterator(work))
    fs::permissions(entry.path(), fs::perms::all, fs::perm_options::replace);

  const auto commands = [&](const std::string& out) {
    const std::string d = (work / "demo").string();
    return std::vector<std::vector<std::string>>{
        {"embedding", "image_embeddings", "-e", d + "/embedding_spec.yaml",
         "input_parquet=" + d + "/data/targets.parquet",
         "output_parquet=" + out + "/target_embeddings.parquet"},
        {"embedding", "image_embeddings", "-e", d + "/embedding_spec.yaml",
         "input_parquet=" + d + "/data/pool.csv",
         "output_parquet=" + out + "/pool_embeddings.parquet"},
        {"tmm", "nearest_neighbors", "-e", d + "/mining_spec.yaml",
         "source_parquet=" + out + "/pool_embeddings.parquet",
         "target_parquet=" + out + "/target_embeddings.parquet",
         "output_parquet=" + out + "/mined.parquet"}};
  };
  for (const auto& args : commands((work / "native").string())) {
    const auto r = testing::run_deft_binary(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const ImageRunner runner(work);
  std::cout << "[ INFO     ] the image ran under " << runner.how() << "\n";
  for (const auto& args : commands((work / "image").string())) {
    const auto r = runner.run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  table::Database db;
  for (const char* file : {"target_embeddings.parquet", "pool_embeddings.parquet", "mined.parquet",
                           "mined.parquet.pairs.parquet"}) {
    const auto native = sql_rows(db, "SELECT * FROM " + quoted(work / "native" / file));
    EXPECT_GT(native.size(), 0U) << file;
    EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(work / "image" / file)), native) << file;
  }
  // The summaries agree but for the output path and the timing.
  const auto summary = [&](const char* side) {
    std::string text = testing::read_text_file(work / side / "mining_summary.txt");
    text = text.substr(0, text.find("  Results saved to: "));
    return text;
  };
  EXPECT_EQ(summary("image"), summary("native"));
  EXPECT_THAT(summary("native"), ::testing::StartsWith("Summary:\n  Target queries: "));
  fs::remove_all(work);
}

}  // namespace
}  // namespace deft
