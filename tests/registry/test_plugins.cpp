// Plugin discovery and ABI checks, on test plugins built into tests/plugins.
#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/plugins.hpp"
#include "vlm/registry/search_paths.hpp"
#include "vlm/version.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {
const fs::path kPluginDir = VLM_TEST_PLUGIN_DIR;

// The registry caches discovery per process, so the search path is set before anything asks.
const bool kPathSet = [] {
  ::setenv("VLM_PLUGIN_PATH", VLM_TEST_PLUGIN_DIR, 1);
  return true;
}();
}  // namespace

TEST_CASE("a plugin built for another SDK ABI is refused with both versions named", "[registry][plugins]") {
  const auto entry = registry::inspect_plugin(kPluginDir / "libvlm_plugin_test_wrong_abi.so");
  CHECK_FALSE(entry.ok());
  CHECK_THAT(entry.status, Catch::Contains("SDK ABI version 999") &&
                               Catch::Contains(fmt::format("SDK ABI version {}", VLM_SDK_ABI_VERSION)));
  CHECK_THROWS_WITH(registry::create_family(entry), Catch::Contains("cannot be used"));
  // Discovery lists it as refused, and no model type it claims is served.
  const auto all = registry::discover_plugins();
  CHECK(std::any_of(all.begin(), all.end(), [](const auto& p) { return !p.ok() && p.name == "test_wrong_abi"; }));
  CHECK_THROWS_WITH(registry::plugin_for_model_type("wrong_abi_type"),
                    Catch::Contains("no plugin serves model_type 'wrong_abi_type'") && Catch::Contains("refused"));
}

TEST_CASE("a library that is not a plugin, or not a library, is refused with a reason", "[registry][plugins]") {
  const auto dir = test::temp_dir("plugins");
  std::ofstream(dir / "libvlm_plugin_junk.so") << "not an ELF file";
  const auto junk = registry::inspect_plugin(dir / "libvlm_plugin_junk.so");
  CHECK_FALSE(junk.ok());
  CHECK_THAT(junk.status, Catch::Contains("cannot load"));
}

TEST_CASE("a good plugin's metadata is read without creating a family", "[registry][plugins]") {
  const auto entry = registry::inspect_plugin(kPluginDir / "libvlm_plugin_test_good.so");
  REQUIRE(entry.ok());
  CHECK(entry.name == "vlm_test");
  CHECK(entry.version == "1.2.3");
  CHECK(entry.model_types == std::vector<std::string>{"vlm_test", "vlm_test_alias"});
  CHECK(&registry::plugin_for_model_type("vlm_test_alias") == &registry::plugin_named("vlm_test"));
}

TEST_CASE("synthetic checkpoints follow the family's tensor declaration", "[registry][synth]") {
  const auto family = registry::create_family(registry::plugin_named("vlm_test"));
  const auto dir = test::temp_dir("synth");
  const auto recipe = family->synth_recipe("tiny");
  write_synthetic_checkpoint(*family, recipe, dir, 7);
  CHECK_THROWS_WITH(write_synthetic_checkpoint(*family, recipe, dir, 7), Catch::Contains("not empty"));

  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  CHECK_FALSE(ckpt->has_tensor("head.weight"));  // optional tensors are not written
  const Tensor norm = ckpt->tensor("norm.weight");
  for (int64_t i = 0; i < norm.numel(); ++i) CHECK(std::abs(norm.item(i) - 1.0) < 0.6);  // 1 + N(0, 0.1)

  // Same seed, same weights; another seed, other weights.
  const auto dir2 = test::temp_dir("synth2");
  write_synthetic_checkpoint(*family, recipe, dir2, 7);
  const auto dir3 = test::temp_dir("synth3");
  write_synthetic_checkpoint(*family, recipe, dir3, 8);
  const Tensor a = ckpt->tensor("proj.weight");
  const Tensor b = Checkpoint::open(dir2)->tensor("proj.weight");
  const Tensor c = Checkpoint::open(dir3)->tensor("proj.weight");
  CHECK(std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
  CHECK(std::memcmp(a.raw(), c.raw(), a.nbytes()) != 0);

  const auto tokenizer = ConfigView::load(dir / "tokenizer.json");
  const auto& added = tokenizer.json()["added_tokens"];
  REQUIRE(added.size() == 3);
  CHECK(added[2]["content"] == "<image>");
  CHECK(added[2]["id"] == synthetic_special_token_id(16, 2));
  CHECK(tokenizer.json()["model"]["merges"].size() == 16);
  CHECK(tokenizer.json()["model"]["vocab"].size() == 256 + 16);
  CHECK(fs::exists(dir / "chat_template.json"));
}
