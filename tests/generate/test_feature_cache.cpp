// The image-feature cache: least-recently-used eviction within a byte budget, keys that tell images and
// models apart, and on the tiny Qwen2-VL fixture a hit that skips the vision encoder yet gives the same
// features and logits as encoding the batch.
#include <catch2/catch.hpp>

#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;

namespace {

Image solid(uint8_t value, int size = 4) {
  Image image;
  image.width = image.height = size;
  image.rgb.assign(size_t(size * size * 3), value);
  image.source = "solid " + std::to_string(value);
  return image;
}

Tensor rows_of(float value, int64_t rows) {  // rows x 4 floats = rows * 16 bytes
  Tensor t = Tensor::zeros(Shape{rows, 4}, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = value;
  return t;
}

Backend& cpu() {
  static const std::shared_ptr<Backend> backend = registry::create_backend("cpu");
  return *backend;
}

}  // namespace

TEST_CASE("image feature cache evicts the least recently used entry to stay within its bytes", "[generate][cache]") {
  ImageFeatureCache cache(3 * 64, "model-a", cpu());  // room for three 64-byte entries
  const Image a = solid(1), b = solid(2), c = solid(3), d = solid(4);
  cache.insert(a, rows_of(1, 4));
  cache.insert(b, rows_of(2, 4));
  cache.insert(c, rows_of(3, 4));
  CHECK(cache.stats().bytes == 192);
  REQUIRE(cache.find(a).defined());  // a is now the most recent; b the least
  cache.insert(d, rows_of(4, 4));
  CHECK_FALSE(cache.find(b).defined());
  CHECK(cache.find(a).data<float>()[0] == 1.0f);
  CHECK(cache.find(c).defined());
  CHECK(cache.find(d).defined());
  const auto stats = cache.stats();
  CHECK(stats.evictions == 1);
  CHECK(stats.entries == 3);
  CHECK(stats.bytes == 192);
  CHECK(stats.misses == 1);
  CHECK(stats.hits == 4);

  // An entry larger than the whole budget is not kept (and evicts nothing).
  cache.insert(solid(5), rows_of(5, 16));
  CHECK_FALSE(cache.find(solid(5)).defined());
  CHECK(cache.stats().entries == 3);

  // The same pixels under another model key, or another size, are other entries.
  ImageFeatureCache other(1024, "model-b", cpu());
  other.insert(a, rows_of(9, 1));
  CHECK(other.find(a).data<float>()[0] == 9.0f);
  CHECK_FALSE(other.find(solid(1, 2)).defined());
  CHECK_FALSE(other.find(b).defined());

  ImageFeatureCache off(0, "model-a", cpu());
  off.insert(a, rows_of(1, 1));
  CHECK_FALSE(off.find(a).defined());
}

TEST_CASE("a cached image skips the vision encoder and gives the batch's features and logits", "[generate][cache]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  registry::LoadRequest request;
  request.model = (dir / "checkpoint").string();
  request.device = "cpu";
  auto loaded = registry::load_model(request);
  Model& model = *loaded.model;

  // Two prompts, three images, one of them in both prompts.
  const Image shared = load_image(dir / "inputs" / "image_multi_a.png");
  std::vector<Prompt> prompts(2);
  const char* texts[] = {"Compare these.", "What is this?"};
  for (size_t i = 0; i < 2; ++i) {
    OrderedJson content = OrderedJson::array();
    content.push_back({{"type", "image"}});
    if (i == 0) content.push_back({{"type", "image"}});
    content.push_back({{"type", "text"}, {"text", texts[i]}});
    prompts[i].messages = OrderedJson::array({{{"role", "user"}, {"content", content}}});
  }
  prompts[0].images = {shared, load_image(dir / "inputs" / "image_multi_b.png")};
  prompts[1].images = {shared};
  const ModelInputs inputs = model.processor().prepare(prompts);

  ImageFeatureCache cache(64 << 20, "fixture", *loaded.backend);
  const Tensor first = vision_features(model, prompts, inputs, &cache, nullptr);
  CHECK(cache.stats().misses == 2);  // the shared image was encoded once, then found
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().entries == 2);
  const Tensor again = vision_features(model, prompts, inputs, &cache, nullptr);
  CHECK(cache.stats().misses == 2);  // nothing encoded this time
  CHECK(cache.stats().hits == 4);
  VLM_CHECK_IDENTICAL(again, first);

  // Image by image equals the whole batch at once (rounding aside), and so do the logits.
  const Tensor batch = vision_features(model, prompts, inputs, nullptr, nullptr);
  VLM_CHECK_CLOSE(first, batch, 1e-5);
  GenerationConfig config =
      GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(), loaded.checkpoint->config());
  config.do_sample = false;
  config.max_new_tokens = 4;
  TensorDump cached(*loaded.backend), cached_again(*loaded.backend), uncached(*loaded.backend);
  const auto r1 = generate_from_inputs(model, inputs, config, {}, &cached, &first);
  const auto r2 = generate_from_inputs(model, inputs, config, {}, &cached_again, &again);
  const auto r3 = generate_from_inputs(model, inputs, config, {}, &uncached, &batch);
  REQUIRE(cached.find("generation_step_logits"));
  REQUIRE(uncached.find("generation_step_logits"));
  VLM_CHECK_IDENTICAL(*cached_again.find("generation_step_logits"), *cached.find("generation_step_logits"));
  VLM_CHECK_CLOSE(*cached.find("generation_step_logits"), *uncached.find("generation_step_logits"), 1e-4);
  CHECK(r1.generated_ids == r3.generated_ids);
  CHECK(r2.generated_ids == r1.generated_ids);
}
