// The Mllama plugin's tensor declaration matches the checkpoint Hugging Face wrote (the fixture), its
// synthetic checkpoints validate and run end to end (template with BOS once, tiles, cross-attention mask,
// vision, cross-attention decoder), a text-only prompt skips the cross-attention layers, and the 11b preset
// has the hub model's size.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/preset_size.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("mllama declaration matches the Hugging Face fixture checkpoint", "[mllama][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/mllama/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("mllama"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  CHECK(family->expected_tensors(ckpt->config()).size() == ckpt->tensors().size());
}

TEST_CASE("mllama synthetic checkpoints validate, and 11b has the hub model's size", "[mllama][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("mllama"));
  const auto dir = test::temp_dir("mllama-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  // meta-llama/Llama-3.2-11B-Vision has ~10.67 B parameters.
  const int64_t parameters = test::preset_parameters(*family, "11b");
  CHECK(parameters > 10'500'000'000);
  CHECK(parameters < 10'800'000'000);
}

TEST_CASE("a synthetic tiny mllama checkpoint runs prompts with and without an image", "[mllama][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("mllama"));
  const auto dir = test::temp_dir("mllama-synth-run");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 4;

  Prompt prompt;
  prompt.messages = OrderedJson::parse(
      R"([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]}])");
  Image image;  // 90x60: the least upscaling (x1.24) is the 2x2 canvas of 56px tiles
  image.width = 90;
  image.height = 60;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < 3; ++c) image.rgb.push_back(uint8_t((x * 2 + y * 3 + c * 40) % 256));
  prompt.images.push_back(image);
  const ModelInputs inputs = loaded.model->processor().prepare(std::span(&prompt, 1));
  REQUIRE(inputs.texts.size() == 1);
  CHECK(inputs.texts[0] ==
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<|image|>What is this?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  const Tensor& ids = inputs.at("input_ids");
  const int64_t bos = loaded.checkpoint->generation_config().get<int64_t>("bos_token_id");
  CHECK(std::count(ids.data<int64_t>(), ids.data<int64_t>() + ids.numel(), bos) == 1);
  CHECK(inputs.at("pixel_values").shape() == Shape{1, 1, 4, 3, 56, 56});
  CHECK(inputs.at("aspect_ratio_ids").data<int64_t>()[0] == 6);  // (2, 2) is the sixth supported ratio
  CHECK(inputs.at("cross_attention_mask").shape() == Shape{1, ids.dim(1), 1, 4});
  const auto result = generate_from_inputs(*loaded.model, inputs, config);
  REQUIRE(result.generated_ids.size() == 1);
  CHECK(result.generated_ids[0].size() == 4);

  Prompt text_only;
  text_only.messages = OrderedJson::parse(R"([{"role": "user", "content": "Say something."}])");
  const ModelInputs text_inputs = loaded.model->processor().prepare(std::span(&text_only, 1));
  CHECK_FALSE(text_inputs.find("cross_attention_mask"));
  CHECK(generate_from_inputs(*loaded.model, text_inputs, config).generated_ids[0].size() == 4);
}

TEST_CASE("a text-only Mllama checkpoint (MllamaForCausalLM) loads and generates", "[mllama][synth]") {
  // The tiny synthetic model's language half saved as MllamaForCausalLM saves it: config.json is the text
  // config, tensors under model.* and lm_head.
  const auto family = registry::create_family(registry::plugin_for_model_type("mllama"));
  const auto full = test::temp_dir("mllama-text-full");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), full, 0, true);
  const auto text_dir = test::temp_dir("mllama-text-only");
  const auto source = Checkpoint::open(full);
  const auto cpu = registry::create_backend("cpu");
  TensorDump dump(*cpu);
  for (const auto* info : source->tensors()) {
    const std::string& name = info->name;
    if (name.starts_with("language_model.")) dump.record(name.substr(15), source->tensor(name));
  }
  dump.write(text_dir);
  std::filesystem::rename(text_dir / "tensors.safetensors", text_dir / "model.safetensors");
  Json config = source->config().json()["text_config"];
  config["model_type"] = "mllama_text_model";
  config["architectures"] = {"MllamaForCausalLM"};
  std::ofstream(text_dir / "config.json") << config.dump();
  for (const char* file : {"tokenizer.json", "tokenizer_config.json", "chat_template.json", "generation_config.json"})
    std::filesystem::copy_file(full / file, text_dir / file);

  registry::LoadRequest request;
  request.model = text_dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  CHECK(loaded.model->vision_encoder() == nullptr);
  Prompt prompt;
  prompt.messages = OrderedJson::parse(R"([{"role": "user", "content": "Say something."}])");
  const ModelInputs inputs = loaded.model->processor().prepare(std::span(&prompt, 1));
  GenerationConfig config_gen = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                  loaded.checkpoint->config());
  config_gen.do_sample = false;
  config_gen.max_new_tokens = config_gen.min_new_tokens = 4;
  const auto result = generate_from_inputs(*loaded.model, inputs, config_gen);
  CHECK(result.generated_ids[0].size() == 4);
  prompt.images.emplace_back();
  CHECK_THROWS_WITH(loaded.model->processor().prepare(std::span(&prompt, 1)), Catch::Contains("takes no images"));
}
