// The VipLlava plugin's tensor declaration matches the checkpoint Hugging Face wrote (the fixture), its
// synthetic checkpoints validate against the same declaration, and the 7b preset has the hub model's size.
#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("vipllava declaration matches the Hugging Face fixture checkpoint", "[vipllava][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/vipllava/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("vipllava"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
}

TEST_CASE("vipllava synthetic checkpoints validate", "[vipllava][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("vipllava"));
  const auto dir = test::temp_dir("vipllava-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  const ConfigView& config = ckpt->config();
  CHECK(config.get<int64_t>("image_token_index") < config.child("text_config").get<int64_t>("vocab_size"));

  // 7b: only the declaration (writing GBs is for benchmarks). vip-llava-7b-hf has ~7.06 B parameters.
  const auto recipe = family->synth_recipe("7b");
  int64_t parameters = 0;
  for (const auto& spec : family->expected_tensors(ConfigView::parse(recipe.config.dump(), "config.json")))
    if (!spec.optional) parameters += spec.shape.numel();
  CHECK(parameters > 6'900'000'000);
  CHECK(parameters < 7'200'000'000);
}
