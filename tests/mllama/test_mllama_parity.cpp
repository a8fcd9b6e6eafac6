// Mllama at parity with Hugging Face transformers 4.47.1 on the golden fixture (read in place): one image
// on a 2x2 canvas, two images of 1 and 4 tiles in one prompt, and a left-padded batch. reference.json states
// no tolerances: pixel_values 1e-5, every activation 1e-4 max abs error, ids and masks identical.
#include <fstream>

#include <catch2/catch.hpp>

#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;

namespace {

// messages_<case>.json is one conversation or a list of them; prompt i's k-th image is image_<case>_<i>_<k>.png.
std::vector<Prompt> prompts_of(const test::Fixture& fx, const std::string& name, const std::vector<size_t>& per_prompt) {
  std::ifstream in(fx.input("messages_" + name + ".json"));
  const OrderedJson messages = OrderedJson::parse(in);
  const bool batched = messages[0].is_array();
  std::vector<Prompt> prompts;
  for (size_t i = 0; i < per_prompt.size(); ++i) {
    Prompt p;
    p.messages = batched ? messages[i] : messages;
    for (size_t k = 0; k < per_prompt[i]; ++k)
      p.images.push_back(load_image(fx.input("image_" + name + "_" + std::to_string(i) + "_" + std::to_string(k) + ".png")));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

}  // namespace

TEST_CASE("mllama matches Hugging Face on every fixture case", "[mllama][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/mllama");
  const test::Fixture fx(dir);
  registry::LoadRequest request;
  request.model = fx.checkpoint().string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  const std::vector<std::pair<std::string, std::vector<size_t>>> cases = {
      {"single", {1}}, {"multi", {2}}, {"batch", {1, 1}}};
  for (const auto& [name, images] : cases) {
    SECTION(name) {
      const ModelInputs inputs = loaded.model->processor().prepare(prompts_of(fx, name, images));
      GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                  loaded.checkpoint->config());
      config.do_sample = false;
      config.max_new_tokens = config.min_new_tokens = 12;  // the fixture's generate() call
      TensorDump dump(*loaded.backend);
      generate_from_inputs(*loaded.model, inputs, config, {}, &dump);
      // Attended rows of the per-position outputs (HF's full forward positions padding differently; pads
      // attend uniformly there).
      test::check_case(fx, name, dump.tensors(), {1e-5, 1e-4});
    }
  }
}
