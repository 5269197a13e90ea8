// Offline model resolution (a fake Hugging Face cache) and checkpoint folders.
#include "model/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "safetensors_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* kMain = "0123456789abcdef0123456789abcdef01234567";
constexpr const char* kTagged = "fedcba9876543210fedcba9876543210fedcba98";

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    return std::string(e.what()) + " | hint: " + e.hint();
  }
  ADD_FAILURE() << "no deft::Error";
  return {};
}

// A cache laid out as huggingface_hub writes it: files are symlinks into blobs/.
fs::path make_fake_cache(const fs::path& root) {
  const fs::path repo = root / "models--google--siglip-base-patch16-224";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  testing::write_text_file(repo / "refs/main", std::string(kMain) + "\n");  // trailing newline
  testing::write_text_file(repo / "refs/v1.0", kTagged);
  testing::write_safetensors(repo / "blobs/aaaa", {{"w", {{2}, {1.0F, 2.0F}}}});
  testing::write_text_file(repo / "blobs/bbbb", R"({"model_type": "siglip"})");
  for (const char* commit : {kMain, kTagged}) {
    const fs::path snapshot = repo / "snapshots" / commit;
    fs::create_directories(snapshot);
    fs::create_symlink("../../blobs/aaaa", snapshot / "model.safetensors");
    fs::create_symlink("../../blobs/bbbb", snapshot / "config.json");
  }
  return repo;
}

TEST(HubCache, RootFollowsTheEnvironmentPrecedence) {
  model::HubEnvironment env{"/a", "/b", "/c", "/d", "/home/u"};
  EXPECT_EQ(model::hub_cache_root(env), "/a");
  env.hf_hub_cache.clear();
  EXPECT_EQ(model::hub_cache_root(env), "/b");
  env.huggingface_hub_cache.clear();
  EXPECT_EQ(model::hub_cache_root(env), "/c/hub");
  env.hf_home.clear();
  EXPECT_EQ(model::hub_cache_root(env), "/d/huggingface/hub");
  env.xdg_cache_home.clear();
  EXPECT_EQ(model::hub_cache_root(env), "/home/u/.cache/huggingface/hub");
}

TEST(HubCache, ResolvesIdsRevisionsAndCommitsToSnapshots) {
  testing::ScratchDir dir;
  const fs::path repo = make_fake_cache(dir / "hub");
  const model::HubEnvironment env{(dir / "hub").string(), "", "", "", "/nonexistent"};

  model::ModelLocation main = model::resolve_model_path("google/siglip-base-patch16-224", env);
  EXPECT_EQ(main.folder, repo / "snapshots" / kMain);
  EXPECT_EQ(main.id, "google/siglip-base-patch16-224");
  EXPECT_EQ(main.revision, kMain);

  EXPECT_EQ(model::resolve_model_path("google/siglip-base-patch16-224@v1.0", env).revision,
            kTagged);
  EXPECT_EQ(model::resolve_model_path(std::string("google/siglip-base-patch16-224@") + kTagged, env)
                .folder,
            repo / "snapshots" / kTagged);

  // The checkpoint reads through the symlinks into blobs/.
  model::Checkpoint checkpoint(main.folder);
  EXPECT_EQ(model::to_f32(checkpoint.tensor("w")), (std::vector<float>{1.0F, 2.0F}));

  // HF_HOME=dir selects dir/hub, the same cache.
  const model::HubEnvironment home_env{"", "", dir.path().string(), "", ""};
  EXPECT_EQ(model::resolve_model_path("google/siglip-base-patch16-224", home_env).revision, kMain);
}

TEST(HubCache, MissingModelsAndRevisionsNameWhereTheyWereLookedFor) {
  testing::ScratchDir dir;
  const fs::path repo = make_fake_cache(dir / "hub");
  const model::HubEnvironment env{(dir / "hub").string(), "", "", "", ""};

  EXPECT_THAT(error_of([&] { model::resolve_model_path("openai/clip-vit-base-patch32", env); }),
              AllOf(HasSubstr((dir / "hub/models--openai--clip-vit-base-patch32").string()),
                    HasSubstr("deft never downloads"),
                    HasSubstr("huggingface-cli download openai/clip-vit-base-patch32")));
  EXPECT_THAT(
      error_of([&] { model::resolve_model_path("google/siglip-base-patch16-224@v2", env); }),
      AllOf(HasSubstr("revision 'v2'"), HasSubstr((repo / "refs/v2").string())));
  testing::write_text_file(repo / "refs/broken", "not a hash");
  EXPECT_THAT(
      error_of([&] { model::resolve_model_path("google/siglip-base-patch16-224@broken", env); }),
      HasSubstr("should hold a 40-character commit hash, holds 'not a hash'"));
  fs::remove_all(repo / "snapshots" / kTagged);
  EXPECT_THAT(
      error_of([&] { model::resolve_model_path("google/siglip-base-patch16-224@v1.0", env); }),
      HasSubstr("snapshot '" + std::string(kTagged) + "'"));
  EXPECT_THAT(error_of([&] { model::resolve_model_path("./no/such/folder", env); }),
              HasSubstr("model folder './no/such/folder' not found"));
}

TEST(Checkpoint, LocalFoldersShardsAndUnsupportedFormats) {
  testing::ScratchDir dir;
  const model::HubEnvironment env{(dir / "empty-cache").string(), "", "", "", ""};

  // A local folder resolves to itself.
  fs::create_directories(dir / "ckpt");
  testing::write_safetensors(dir / "ckpt/model.safetensors", {{"a", {{1}, {3.0F}}}});
  const model::ModelLocation local = model::resolve_model_path((dir / "ckpt").string(), env);
  EXPECT_EQ(local.folder, fs::canonical(dir / "ckpt"));
  EXPECT_EQ(local.revision, "");

  // Sharded: the index maps names to shard files.
  fs::create_directories(dir / "sharded");
  testing::write_safetensors(dir / "sharded/model-00001-of-00002.safetensors",
                             {{"a", {{2}, {1.0F, 2.0F}}}});
  testing::write_safetensors(dir / "sharded/model-00002-of-00002.safetensors",
                             {{"b", {{1}, {5.0F}}}});
  testing::write_text_file(dir / "sharded/model.safetensors.index.json",
                           R"({"metadata": {"total_size": 12}, "weight_map": {)"
                           R"("a": "model-00001-of-00002.safetensors",)"
                           R"("b": "model-00002-of-00002.safetensors"}})");
  model::Checkpoint sharded(dir / "sharded");
  EXPECT_EQ(sharded.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model::to_f32(sharded.tensor("b")), std::vector<float>{5.0F});
  EXPECT_THAT(error_of([&] { (void)sharded.tensor("c"); }),
              AllOf(HasSubstr("has no tensor 'c'"), HasSubstr("sharded")));

  testing::write_text_file(dir / "sharded/model.safetensors.index.json",
                           R"({"weight_map": {"a": "model-00003-of-00002.safetensors"}})");
  EXPECT_THAT(error_of([&] { model::Checkpoint c(dir / "sharded"); }),
              HasSubstr("shard 'model-00003-of-00002.safetensors' listed in"));
  testing::write_text_file(dir / "sharded/model.safetensors.index.json",
                           R"({"weight_map": {"b": "model-00001-of-00002.safetensors"}})");
  EXPECT_THAT(
      error_of([&] { model::Checkpoint c(dir / "sharded"); }),
      HasSubstr("places tensor 'b' in 'model-00001-of-00002.safetensors', which does not hold it"));

  // Formats deft does not read say so, and say what it reads.
  fs::create_directories(dir / "pickle");
  testing::write_text_file(dir / "pickle/pytorch_model.bin", "not really");
  EXPECT_THAT(error_of([&] { model::Checkpoint c(dir / "pickle"); }),
              AllOf(HasSubstr("pytorch_model.bin"), HasSubstr("not a PyTorch zip checkpoint")));
  testing::write_text_file(dir / "tao_model.pth", "weights");
  EXPECT_THAT(error_of([&] { model::resolve_model_path((dir / "tao_model.pth").string(), env); }),
              AllOf(HasSubstr("PyTorch/TAO checkpoint (.pth)"), HasSubstr("does not support yet"),
                    HasSubstr("model.safetensors or pytorch_model.bin")));
  EXPECT_THAT(
      error_of([&] { model::resolve_model_path((dir / "ckpt/model.safetensors").string(), env); }),
      HasSubstr("is a file; give the checkpoint folder"));
  fs::create_directories(dir / "emptyfolder");
  EXPECT_THAT(error_of([&] { model::Checkpoint c(dir / "emptyfolder"); }),
              HasSubstr("has no model.safetensors, model.safetensors.index.json, "
                        "pytorch_model.bin or pytorch_model.bin.index.json"));
}

}  // namespace
}  // namespace deft
