// The host side of retrieval (core retrieve() and rank()) on a small scorer of known scores: every image
// and every text encoded exactly once, batches never larger than asked, every pair scored, rankings best
// first with ties in index order, and the errors for what cannot be retrieved. The real family is tested
// end to end in tests/bridgetower and tests/cli.
#include <catch2/catch.hpp>

#include "vlm/score/retrieve.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;

namespace {

// Image i is an image of width i + 1; text t a string of t + 1 characters; the score of a pair is minus
// the distance of the two: the best text for image i has i + 1 characters.
struct SizeEncoding final : Encoding {
  float size = 0;
};

class SizeScorer final : public Scorer {
 public:
  std::vector<std::string> tasks() const override { return {"size"}; }
  TensorMap score(std::string_view, const ModelInputs&, Trace*) override { fail("not used"); }
  std::vector<std::string> retrieval_methods() const override { return {"size"}; }
  std::vector<std::unique_ptr<Encoding>> encode_images(std::string_view, std::span<const Image> images) override {
    ++image_calls;
    largest_batch = std::max(largest_batch, images.size());
    std::vector<std::unique_ptr<Encoding>> out;
    for (const Image& image : images) {
      auto e = std::make_unique<SizeEncoding>();
      e->size = float(image.width);
      out.push_back(std::move(e));
      ++images_encoded;
    }
    return out;
  }
  std::vector<std::unique_ptr<Encoding>> encode_texts(std::string_view, std::span<const std::string> texts) override {
    largest_batch = std::max(largest_batch, texts.size());
    std::vector<std::unique_ptr<Encoding>> out;
    for (const auto& text : texts) {
      auto e = std::make_unique<SizeEncoding>();
      e->size = float(text.size());
      out.push_back(std::move(e));
      ++texts_encoded;
    }
    return out;
  }
  Tensor score_pairs(std::string_view, std::span<const Encoding* const> images,
                     std::span<const Encoding* const> texts) override {
    largest_batch = std::max(largest_batch, images.size());
    Tensor out = Tensor::zeros(Shape{int64_t(images.size())}, DType::F32);
    for (size_t p = 0; p < images.size(); ++p)
      out.data<float>()[p] = -std::abs(static_cast<const SizeEncoding*>(images[p])->size -
                                       static_cast<const SizeEncoding*>(texts[p])->size);
    pairs_scored += images.size();
    return out;
  }
  size_t image_calls = 0, images_encoded = 0, texts_encoded = 0, pairs_scored = 0, largest_batch = 0;
};

class NoProcessor final : public Processor {
 public:
  ModelInputs prepare(std::span<const Prompt>) const override { fail("not used"); }
  std::string decode(std::span<const int64_t>, bool) const override { return {}; }
};

class SizeModel final : public Model {
 public:
  Processor& processor() override { return processor_; }
  Scorer* scorer() override { return has_scorer ? &scorer_ : nullptr; }
  SizeScorer scorer_;
  bool has_scorer = true;

 private:
  NoProcessor processor_;
};

Image of_width(int64_t i) { return Image{int(i + 1), 1, std::vector<uint8_t>(size_t(i + 1) * 3), "image" + std::to_string(i)}; }

}  // namespace

TEST_CASE("retrieve encodes each image and text once and scores every pair in batches", "[score][retrieve]") {
  SizeModel model;
  const std::vector<std::string> texts = {"a", "bb", "ccc", "dddd"};
  RetrievalOptions options;
  options.by = "size";
  options.batch_size = 3;
  options.top_k = 2;
  std::vector<std::string> stages;
  options.progress = [&](std::string_view stage, int64_t done, int64_t total) {
    stages.push_back(fmt::format("{} {}/{}", stage, done, total));
  };
  const RetrievalResult r = retrieve(model, 5, of_width, texts, options);
  CHECK(model.scorer_.images_encoded == 5);
  CHECK(model.scorer_.image_calls == 2);  // 3 + 2
  CHECK(model.scorer_.texts_encoded == 4);
  CHECK(model.scorer_.pairs_scored == 20);
  CHECK(model.scorer_.largest_batch <= 3);
  REQUIRE(r.scores.shape() == Shape{5, 4});
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t t = 0; t < 4; ++t) CHECK(r.scores.data<float>()[i * 4 + t] == -std::abs(float(i - t)));
  CHECK_FALSE(r.image_embeds.defined());
  // Image 0's best text is "a" (distance 0), then "bb" (1).
  REQUIRE(r.texts_for_image.size() == 5);
  CHECK(r.texts_for_image[0][0].index == 0);
  CHECK(r.texts_for_image[0][1].index == 1);
  // Image 4 (width 5): "dddd" at distance 1 is best; then "ccc".
  CHECK(r.texts_for_image[4][0].index == 3);
  CHECK(r.texts_for_image[4][1].index == 2);
  // Text "bb": image 1 (distance 0), then images 0 and 2 tie at 1: the lower index first.
  REQUIRE(r.images_for_text.size() == 4);
  CHECK(r.images_for_text[1][0].index == 1);
  CHECK(r.images_for_text[1][1].index == 0);
  CHECK(r.images_for_text[1][1].score == -1.0f);
  CHECK(stages.front() == "texts 0/4");
  CHECK(stages[1] == "texts 3/4");
  CHECK(stages.back() == "pairs 20/20");
}

TEST_CASE("rank orders rows or columns best first, ties by index, top-k clamped", "[score][retrieve]") {
  Tensor scores = Tensor::zeros(Shape{2, 3}, DType::F32);
  const float values[] = {0.5f, 0.9f, 0.5f, 0.1f, 0.2f, 0.3f};
  std::copy(std::begin(values), std::end(values), scores.data<float>());
  const auto rows = rank(scores, 10, false);
  REQUIRE(rows.size() == 2);
  REQUIRE(rows[0].size() == 3);
  CHECK(rows[0][0].index == 1);
  CHECK(rows[0][1].index == 0);  // 0.5 ties: index order
  CHECK(rows[0][2].index == 2);
  const auto columns = rank(scores, 1, true);
  REQUIRE(columns.size() == 3);
  CHECK(columns[0].size() == 1);
  CHECK(columns[0][0].index == 0);
  CHECK(columns[2][0].index == 0);
  CHECK(columns[2][0].score == 0.5f);
}

TEST_CASE("retrieve refuses what it cannot do, clearly", "[score][retrieve]") {
  SizeModel model;
  RetrievalOptions options;
  options.by = "size";
  const std::vector<std::string> texts = {"a"};
  CHECK_THROWS_WITH(retrieve(model, 0, of_width, texts, options), Catch::Contains("no image"));
  CHECK_THROWS_WITH(retrieve(model, 1, of_width, {}, options), Catch::Contains("no text"));
  options.by = "itm";
  CHECK_THROWS_WITH(retrieve(model, 1, of_width, texts, options),
                    Catch::Contains("retrieval by 'itm' is not available") && Catch::Contains("size"));
  model.has_scorer = false;
  CHECK_THROWS_WITH(retrieve(model, 1, of_width, texts, options), Catch::Contains("no scoring heads"));
  SizeModel failing;
  options.by = "size";
  CHECK_THROWS_WITH(retrieve(failing, 1, [](int64_t) -> Image { fail("bad.png: not an image"); }, texts, options),
                    Catch::Contains("bad.png"));
}
