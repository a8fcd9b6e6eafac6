// Model resolution: named models, checkpoint directories, the Hugging Face cache, close matches.
#include <cstdlib>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/registry/models.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A checkpoint folder whose config names the test plugin's model type (resolution never opens weights).
void write_checkpoint_stub(const fs::path& dir) { write_file(dir / "config.json", R"({"model_type": "vlm_test"})"); }

const bool kEnvSet = [] {
  ::setenv("VLM_PLUGIN_PATH", VLM_TEST_PLUGIN_DIR, 1);
  return true;
}();

}  // namespace

TEST_CASE("a checkpoint directory resolves through its config.json model_type", "[registry][models]") {
  const auto dir = test::temp_dir("resolve-dir");
  write_checkpoint_stub(dir);
  const auto resolved = registry::resolve_model(dir.string());
  CHECK(resolved.dir == fs::absolute(dir));
  CHECK(resolved.model_type == "vlm_test");
  REQUIRE(resolved.plugin);
  CHECK(resolved.plugin->name == "vlm_test");

  write_file(dir / "config.json", R"({"model_type": "no_such_family"})");
  CHECK_THROWS_WITH(registry::resolve_model(dir.string()), Catch::Contains("no plugin serves model_type 'no_such_family'"));
}

TEST_CASE("a Hugging Face repo id resolves in the local cache by refs/main", "[registry][models]") {
  const auto cache = test::temp_dir("hf-cache");
  ::setenv("HF_HUB_CACHE", cache.c_str(), 1);
  const auto repo = cache / "models--Org--Tiny-VLM";
  write_checkpoint_stub(repo / "snapshots" / "abc123");
  write_checkpoint_stub(repo / "snapshots" / "old999");
  write_file(repo / "refs" / "main", "abc123");

  auto resolved = registry::resolve_model("Org/Tiny-VLM");
  CHECK(resolved.dir == repo / "snapshots" / "abc123");
  CHECK_THAT(resolved.how, Catch::Contains("Hugging Face cache"));
  CHECK(registry::find_in_hf_cache("Org/Tiny-VLM@old999") == repo / "snapshots" / "old999");
  CHECK_FALSE(registry::find_in_hf_cache("Org/Tiny-VLM@nope"));

  // An unknown id lists close matches from the cache.
  CHECK_THROWS_WITH(registry::resolve_model("Org/Tiny-VLN"), Catch::Contains("Did you mean: Org/Tiny-VLM"));
  ::unsetenv("HF_HUB_CACHE");
}

TEST_CASE("named models come from configs/models/*.yaml", "[registry][models]") {
  const auto configs = test::temp_dir("configs");
  const auto ckpt = configs / "models" / "ckpt";
  write_checkpoint_stub(ckpt);
  write_file(configs / "models" / "tiny.yaml",
             "name: tiny-test\ndescription: a test\ncheckpoint: ckpt\ngeneration:\n  max_new_tokens: 12\n  temperature: 0.5\n");
  ::setenv("VLM_CONFIG_PATH", configs.c_str(), 1);

  const auto resolved = registry::resolve_model("tiny-test");
  CHECK(resolved.dir == fs::absolute(ckpt));
  REQUIRE(resolved.named);
  CHECK(resolved.named->generation["max_new_tokens"] == 12);
  CHECK(resolved.named->generation["temperature"] == 0.5);
  CHECK_THROWS_WITH(registry::resolve_model("tiny-tset"), Catch::Contains("Did you mean: tiny-test"));

  write_file(configs / "models" / "broken.yaml", "name: [unclosed\n");
  CHECK_THROWS_WITH(registry::named_models(), Catch::Contains("broken.yaml:"));
  fs::remove(configs / "models" / "broken.yaml");
  write_file(configs / "models" / "typo.yaml", "name: x\ncheckpoint: y\ncheckpiont: z\n");
  CHECK_THROWS_WITH(registry::named_models(), Catch::Contains("unknown key 'checkpiont'"));
  ::unsetenv("VLM_CONFIG_PATH");
}

TEST_CASE("close matches rank by edit distance and substrings", "[registry][models]") {
  const std::vector<std::string> names{"qwen2-vl-2b", "qwen2-vl-7b", "vip-llava-7b", "idefics2-8b"};
  const auto near = registry::close_matches("qwen2-vl-3b", names);
  REQUIRE(near.size() >= 2);
  CHECK(near[0] == "qwen2-vl-2b");
  CHECK(registry::close_matches("zzzzzzzz", names).empty());
}

TEST_CASE("the project's named models are installed with it, one per family size it promises",
          "[registry][models]") {
  ::unsetenv("VLM_CONFIG_PATH");
  std::set<std::string> names;
  for (const auto& model : registry::named_models()) {
    INFO(model.file.string());
    CHECK_FALSE(model.checkpoint.empty());
    CHECK_FALSE(model.description.empty());
    names.insert(model.name);
  }
  for (const char* name : {"qwen2-vl-2b", "qwen2-vl-7b", "idefics2-8b", "llama-3.2-11b-vision", "blip2-opt-2.7b",
                           "blip2-flan-t5-xl", "bridgetower-large"}) {
    INFO(name);
    CHECK(names.count(name) == 1);
  }
}
