// The Idefics2 plugin's tensor declaration matches the checkpoint Hugging Face wrote (the fixture), its
// synthetic checkpoints validate against the same declaration and run end to end (template, processor with
// image expansion, vision encoder, perceiver, Mistral decoder with a sliding window shorter than the prompt),
// and the 8b preset has the hub model's size.
#include <algorithm>

#include <catch2/catch.hpp>

#include "support/preset_size.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/registry/plugins.hpp"

using namespace vlm;

TEST_CASE("idefics2 declaration matches the Hugging Face fixture checkpoint", "[idefics2][fixture]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/idefics2/checkpoint");
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  CHECK(family->expected_tensors(ckpt->config()).size() == ckpt->tensors().size());
}

TEST_CASE("idefics2 synthetic checkpoints validate, and 8b has the hub model's size", "[idefics2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto dir = test::temp_dir("idefics2-synth");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->validate(family->expected_tensors(ckpt->config())).empty());
  // HuggingFaceM4/idefics2-8b has ~8.40 B parameters.
  const int64_t parameters = test::preset_parameters(*family, "8b");
  CHECK(parameters > 8'300'000'000);
  CHECK(parameters < 8'500'000'000);
}

TEST_CASE("a synthetic tiny idefics2 checkpoint runs a chat prompt with two images", "[idefics2][synth]") {
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto dir = test::temp_dir("idefics2-synth-run");
  write_synthetic_checkpoint(*family, family->synth_recipe("tiny"), dir, 0, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);

  Prompt prompt;
  prompt.messages = OrderedJson::parse(R"([{"role": "user", "content": [{"type": "image"}, {"type": "text",
      "text": "Compare this"}, {"type": "image"}, {"type": "text", "text": "with that, in a few words."}]}])");
  for (const auto& [w, h] : {std::pair{90, 60}, std::pair{40, 100}}) {
    Image image;
    image.width = w;
    image.height = h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) image.rgb.push_back(uint8_t((x * 2 + y * 3 + c * 40) % 256));
    prompt.images.push_back(image);
  }
  const ModelInputs inputs = loaded.model->processor().prepare(std::span(&prompt, 1));
  REQUIRE(inputs.texts.size() == 1);
  const std::string image = "<fake_token_around_image>" + [] {
    std::string s;
    for (int i = 0; i < 8; ++i) s += "<image>";
    return s;
  }() + "<fake_token_around_image>";
  CHECK(inputs.texts[0] == "User:" + image + "Compare this" + image + "with that, in a few words.<end_of_utterance>\nAssistant:");
  // 90x60 -> 70x46, 40x100 -> 42x70: padded to 70x70 (the first has a masked patch row).
  CHECK(inputs.at("pixel_values").shape() == Shape{1, 2, 3, 70, 70});
  const Tensor& ids = inputs.at("input_ids");
  const int64_t image_token = loaded.checkpoint->config().get<int64_t>("image_token_id");
  CHECK(std::count(ids.data<int64_t>(), ids.data<int64_t>() + ids.numel(), image_token) == 16);
  REQUIRE(ids.dim(1) > 24);  // longer than the tiny preset's sliding window

  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = config.min_new_tokens = 4;
  const auto result = generate_from_inputs(*loaded.model, inputs, config);
  REQUIRE(result.generated_ids.size() == 1);
  CHECK(result.generated_ids[0].size() == 4);
}

TEST_CASE("idefics2's Mistral sliding window equals attention over only the window's tokens", "[idefics2][window]") {
  // With one layer and window W, position p sees exactly tokens p-W+1..p: the engine's windowed prompt logits
  // must equal, at every position, the last logits of a run over those W tokens alone (RoPE is relative, so
  // where the run starts does not matter). A window shorter than the prompt, in prefill and in decode.
  const auto family = registry::create_family(registry::plugin_for_model_type("idefics2"));
  const auto dir = test::temp_dir("idefics2-window");
  SynthRecipe recipe = family->synth_recipe("tiny");
  recipe.config["text_config"]["num_hidden_layers"] = 1;
  recipe.config["text_config"]["sliding_window"] = 4;
  write_synthetic_checkpoint(*family, recipe, dir, 3, true);
  registry::LoadRequest request;
  request.model = dir.string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  Decoder& decoder = *loaded.model->decoder();

  const std::vector<int64_t> ids{5, 17, 40, 3, 99, 12, 7, 61, 33, 2, 80, 45};
  auto run = [&](std::span<const int64_t> tokens) {
    ModelInputs inputs;
    Tensor t = Tensor::zeros(Shape{1, int64_t(tokens.size())}, DType::I64), mask = t.clone();
    for (size_t i = 0; i < tokens.size(); ++i) {
      t.data<int64_t>()[i] = tokens[i];
      mask.data<int64_t>()[i] = 1;
    }
    inputs.tensors.emplace("input_ids", t);
    inputs.tensors.emplace("attention_mask", mask);
    auto session = decoder.open_session({});
    const auto seq = session->admit(inputs, nullptr, nullptr).at(0);
    const StepInput in{seq, -1, 0, true};
    return session->forward(std::span(&in, 1)).logits.clone();
  };
  const Tensor full = run(ids);
  const int64_t vocab = full.dim(1), W = 4;
  for (int64_t p = 0; p < int64_t(ids.size()); ++p) {
    INFO("position " << p);
    const int64_t first = std::max<int64_t>(0, p - W + 1);
    const Tensor window = run(std::span(ids).subspan(size_t(first), size_t(p - first + 1)));
    double worst = 0;
    for (int64_t v = 0; v < vocab; ++v)
      worst = std::max(worst, double(std::abs(full.data<float>()[p * vocab + v] -
                                              window.data<float>()[(window.dim(0) - 1) * vocab + v])));
    CHECK(worst < 1e-4);
  }
  // Decoding token by token after a 3-token prompt gives the same logits as the windowed prefill.
  ModelInputs prefix;
  Tensor t = Tensor::zeros(Shape{1, 3}, DType::I64), mask = t.clone();
  for (int64_t i = 0; i < 3; ++i) {
    t.data<int64_t>()[i] = ids[size_t(i)];
    mask.data<int64_t>()[i] = 1;
  }
  prefix.tensors.emplace("input_ids", t);
  prefix.tensors.emplace("attention_mask", mask);
  auto session = decoder.open_session({});
  const auto seq = session->admit(prefix, nullptr, nullptr).at(0);
  const StepInput first{seq, -1, 0, false};
  session->forward(std::span(&first, 1));
  for (int64_t p = 3; p < int64_t(ids.size()); ++p) {
    INFO("decoded position " << p);
    const StepInput in{seq, ids[size_t(p)], 0, false};
    const Tensor& logits = session->forward(std::span(&in, 1)).logits;
    double worst = 0;
    for (int64_t v = 0; v < vocab; ++v)
      worst = std::max(worst, double(std::abs(full.data<float>()[p * vocab + v] - logits.data<float>()[v])));
    CHECK(worst < 1e-4);
  }
}
