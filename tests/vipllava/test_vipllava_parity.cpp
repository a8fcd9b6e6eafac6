// VipLlava at parity with Hugging Face transformers 4.47.1 on the golden fixture (read in place), which was
// generated with image_seq_length = 0 so that batched decoding does not attend left padding (see the
// fixture README). reference.json states no tolerances: pixel_values 1e-5, every activation 1e-4 max abs
// error, ids identical.
#include <catch2/catch.hpp>

#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;

namespace {

constexpr double kPixelTolerance = 1e-5;
constexpr double kActivationTolerance = 1e-4;

}  // namespace

TEST_CASE("vipllava matches Hugging Face on every fixture case", "[vipllava][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/vipllava");
  const test::Fixture fx(dir);
  registry::LoadRequest request;
  request.model = fx.checkpoint().string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);

  for (const std::string name : {"single", "batch"}) {
    SECTION(name) {
      const ModelInputs inputs = loaded.model->processor().prepare(test::one_image_prompts(fx, name));
      // The fixture records the templated texts before <image> expansion (16 = (56 / 14)^2 patches).
      const auto& texts = fx.json()["cases"][name]["texts"];
      REQUIRE(inputs.texts.size() == texts.size());
      for (size_t i = 0; i < texts.size(); ++i) {
        std::string expected = texts[i].get<std::string>();
        std::string images;
        for (int k = 0; k < 16; ++k) images += "<image>";
        expected.replace(expected.find("<image>"), 7, images);
        CHECK(inputs.texts[i] == expected);
      }
      GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                  loaded.checkpoint->config());
      config.do_sample = false;
      config.max_new_tokens = config.min_new_tokens = 12;  // the fixture's generate() call
      TensorDump dump(*loaded.backend);
      generate_from_inputs(*loaded.model, inputs, config, {}, &dump);
      // Every tensor the fixture holds for the case. HF's full forward positions a padded row 0..S-1 while
      // generation counts real tokens only; RoPE is relative, so the attended rows of last_hidden_state and
      // logits agree either way (to rounding), and only those are compared.
      test::check_case(fx, name, dump.tensors(), {kPixelTolerance, kActivationTolerance});
    }
  }
}
