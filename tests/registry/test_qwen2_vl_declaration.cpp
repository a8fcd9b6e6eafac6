// The Qwen2-VL plugin's tensor declaration matches a checkpoint written by Hugging Face (the fixture),
// and its synthetic checkpoints validate against the same declaration.
#include <catch2/catch.hpp>

#include "support/preset_size.hpp"
#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("qwen2_vl declaration matches the Hugging Face fixture checkpoints", "[registry][qwen2_vl][fixture]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("qwen2_vl"));
  for (const char* fixture : {"fixtures/qwen2_vl/checkpoint", "fixtures/qwen2_vl-bf16/checkpoint"}) {
    VLM_REQUIRE_SHARED(dir, fixture);
    const auto ckpt = Checkpoint::open(dir);
    CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  }
}

TEST_CASE("qwen2_vl synthetic checkpoints validate, in every size's config", "[registry][qwen2_vl][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("qwen2_vl"));
  const auto dir = test::temp_dir("qwen-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  CHECK(ckpt->config().get<int64_t>("image_token_id") < ckpt->config().get<int64_t>("vocab_size"));
  // Full sizes: only the declaration (writing GBs is for benchmarks); 2B has ~2.2 B parameters.
  const int64_t parameters = test::preset_parameters(*family, "2b");
  CHECK(parameters > 2'000'000'000);
  CHECK(parameters < 2'400'000'000);
}
