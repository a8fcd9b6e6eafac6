// Error paths of the Qwen2-VL pipeline: every user mistake is a vlm::Error that says what is wrong, never a
// crash or a silently wrong answer.
#include <fstream>

#include <catch2/catch.hpp>

#include "support/load_model.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/load.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

Image fixture_image(const fs::path& dir, int i = 0) {
  return load_image(dir / "inputs" / ("image_batch_" + std::to_string(i) + ".png"));
}

Prompt with_images(const std::string& raw, std::vector<Image> images) {
  Prompt p;
  p.raw = raw;
  p.images = std::move(images);
  return p;
}

const std::string kOneImage = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is it?<|im_end|>\n"
                              "<|im_start|>assistant\n";
const std::string kNoImage = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";

GenerationConfig short_greedy(const registry::LoadedModel& loaded) {
  GenerationConfig c =
      GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(), loaded.checkpoint->config());
  c.do_sample = false;
  c.max_new_tokens = 2;
  return c;
}

}  // namespace

TEST_CASE("qwen2_vl: image placeholders and images must match", "[generate][errors][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  Model& model = *loaded.model;
  const GenerationConfig config = short_greedy(loaded);

  SECTION("more placeholders than images") {
    const std::vector<Prompt> prompts{with_images(kOneImage + kOneImage, {fixture_image(dir)})};
    CHECK_THROWS_WITH(generate(model, prompts, config),
                      Contains("2 image placeholder(s)") && Contains("<|image_pad|>") && Contains("1 image(s)"));
  }
  SECTION("a placeholder and no image") {
    const std::vector<Prompt> prompts{with_images(kOneImage, {})};
    CHECK_THROWS_WITH(generate(model, prompts, config), Contains("1 image placeholder(s)") && Contains("0 image(s)"));
  }
  SECTION("fewer placeholders than images") {
    const std::vector<Prompt> prompts{with_images(kOneImage, {fixture_image(dir, 0), fixture_image(dir, 1)})};
    CHECK_THROWS_WITH(generate(model, prompts, config), Contains("1 image placeholder(s)") && Contains("2 image(s)"));
  }
  SECTION("images without any placeholder (templated prompt without an image entry)") {
    Prompt p;
    p.messages = OrderedJson::parse(R"([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])");
    p.images.push_back(fixture_image(dir));
    CHECK_THROWS_WITH(generate(model, std::vector<Prompt>{p}, config),
                      Contains("0 image placeholder(s)") && Contains("1 image(s)"));
  }
  SECTION("in a batch, each prompt's images must match its own placeholders") {
    // Totals agree (two and two), but prompt 0's images would silently land in prompt 1's placeholders.
    const std::vector<Prompt> prompts{with_images(kNoImage, {fixture_image(dir, 0), fixture_image(dir, 1)}),
                                      with_images(kOneImage + kOneImage, {})};
    CHECK_THROWS_WITH(generate(model, prompts, config),
                      Contains("prompt 0 has 0 image placeholder(s)") && Contains("2 image(s)"));
  }
  SECTION("video placeholders without videos") {
    const std::vector<Prompt> prompts{with_images("<|vision_start|><|video_pad|><|vision_end|>What happens?", {})};
    CHECK_THROWS_WITH(generate(model, prompts, config), Contains("1 video placeholder(s)") && Contains("0 video(s)"));
  }
  SECTION("a correct prompt still works after the failures") {
    const std::vector<Prompt> prompts{with_images(kOneImage, {fixture_image(dir)})};
    const auto result = generate(model, prompts, config);
    CHECK(result.generated_ids[0].size() >= 1);
  }
}

TEST_CASE("qwen2_vl: prompt + max_new_tokens beyond the context is refused up front", "[generate][errors][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const int64_t context = loaded.model->decoder()->max_context();
  REQUIRE(context == 4096);  // the fixture's max_position_embeddings
  GenerationConfig config = short_greedy(loaded);
  const std::vector<Prompt> prompts{with_images(kNoImage, {})};
  const int64_t prompt_tokens = int64_t(generate(*loaded.model, prompts, config).prompt_ids[0].size());

  config.max_new_tokens = context - prompt_tokens + 1;  // one token too many
  CHECK_THROWS_WITH(generate(*loaded.model, prompts, config),
                    Contains("context is 4096 tokens") && Contains(std::to_string(prompt_tokens) + " tokens") &&
                        Contains(std::to_string(config.max_new_tokens) + " new tokens"));
  config.max_new_tokens = 1'000'000'000;
  CHECK_THROWS_WITH(generate(*loaded.model, prompts, config), Contains("context"));
}

TEST_CASE("qwen2_vl: an empty prompt is an error, not a crash", "[generate][errors][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const GenerationConfig config = short_greedy(loaded);
  // A raw prompt of "" tokenizes to nothing (Qwen2 adds no special tokens): there is no last position to
  // predict from.
  CHECK_THROWS_WITH(generate(*loaded.model, std::vector<Prompt>{with_images("", {})}, config), Contains("empty"));
  // In a batch, the empty row would be all padding next to a real one.
  const std::vector<Prompt> one_empty{with_images(kNoImage, {}), with_images("", {})};
  CHECK_THROWS_WITH(generate(*loaded.model, one_empty, config),
                    Contains("row 1") && Contains("empty"));
}

TEST_CASE("load_image reports unreadable files by name", "[generate][errors][image]") {
  const fs::path tmp = test::temp_dir("gen-errors");
  const fs::path missing = tmp / "does_not_exist.png";
  CHECK_THROWS_WITH(load_image(missing), Contains("does_not_exist.png"));

  const fs::path not_image = tmp / "notes.png";
  std::ofstream(not_image) << "this is text, not a PNG";
  CHECK_THROWS_WITH(load_image(not_image), Contains("notes.png"));

  const fs::path folder = tmp / "folder.png";
  fs::create_directories(folder);
  CHECK_THROWS_AS(load_image(folder), Error);
}

TEST_CASE("qwen2_vl: decoding ids beyond the vocabulary does not crash", "[generate][errors][qwen2_vl]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const Processor& processor = loaded.model->processor();
  // 370 is inside the model's 384 embedding rows but beyond the tokenizer's 366 ids; the others are
  // far outside anything.
  const std::vector<int64_t> ids{370, 1'000'000, -1, int64_t(1) << 40};
  std::string text;
  REQUIRE_NOTHROW(text = processor.decode(ids, false));
  CHECK_THAT(text, Contains("370"));
  REQUIRE_NOTHROW(processor.decode(ids, true));
}
