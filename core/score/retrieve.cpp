#include "vlm/score/retrieve.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Stacks embeddings into [n, E], or an undefined tensor when there are none.
Tensor stack_embeddings(const std::vector<Tensor>& embeddings) {
  if (embeddings.empty() || !embeddings[0].defined()) return {};
  const int64_t E = embeddings[0].numel();
  Tensor out = Tensor::zeros(Shape{int64_t(embeddings.size()), E}, DType::F32);
  for (size_t i = 0; i < embeddings.size(); ++i) {
    if (!embeddings[i].defined()) fail("retrieve: image or text {} has no embedding, the first has one", i);
    const Tensor e = embeddings[i].to(DType::F32);
    if (e.numel() != E) fail("retrieve: embedding {} has {} values, the first has {}", i, e.numel(), E);
    std::copy_n(e.data<float>(), E, out.data<float>() + int64_t(i) * E);
  }
  return out;
}

}  // namespace

std::vector<std::vector<Ranked>> rank(const Tensor& scores, int64_t top_k, bool by_column) {
  const int64_t rows = scores.dim(0), columns = scores.dim(1);
  const int64_t lists = by_column ? columns : rows, candidates = by_column ? rows : columns;
  const int64_t k = std::clamp<int64_t>(top_k, 0, candidates);
  const float* s = scores.data<float>();
  std::vector<std::vector<Ranked>> out(static_cast<size_t>(lists));
  std::vector<int64_t> order(static_cast<size_t>(candidates));
  for (int64_t l = 0; l < lists; ++l) {
    auto at = [&](int64_t c) { return by_column ? s[c * columns + l] : s[l * columns + c]; };
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return at(a) > at(b) || (at(a) == at(b) && a < b); });
    for (int64_t i = 0; i < k; ++i) out[size_t(l)].push_back({order[size_t(i)], at(order[size_t(i)])});
  }
  return out;
}

RetrievalResult retrieve(Model& model, int64_t image_count, const std::function<Image(int64_t)>& image_at,
                         std::span<const std::string> texts, const RetrievalOptions& options) {
  Scorer* scorer = model.scorer();
  if (!scorer) fail("this model has no scoring heads (it generates text: use `vlm run`)");
  const auto methods = scorer->retrieval_methods();
  if (methods.empty()) fail("this model's scorer cannot retrieve (it has no retrieval method)");
  if (std::find(methods.begin(), methods.end(), options.by) == methods.end())
    fail("retrieval by '{}' is not available for this model (it has: {})", options.by, fmt::join(methods, ", "));
  if (image_count <= 0) fail("nothing to retrieve: no image");
  if (texts.empty()) fail("nothing to retrieve: no text");
  const int64_t batch = std::max<int64_t>(options.batch_size, 1);
  const int64_t T = int64_t(texts.size());
  auto report = [&](std::string_view stage, int64_t done, int64_t total) {
    if (options.progress) options.progress(stage, done, total);
  };
  RetrievalResult result;

  // Texts first (they are small); then each batch of images is encoded, scored against every text and
  // let go, so memory holds one batch of image encodings however many images there are.
  auto start = Clock::now();
  report("texts", 0, T);
  std::vector<std::unique_ptr<Encoding>> encoded_texts;
  for (int64_t first = 0; first < T; first += batch) {
    const int64_t n = std::min(batch, T - first);
    try {
      for (auto& e : scorer->encode_texts(options.by, texts.subspan(size_t(first), size_t(n))))
        encoded_texts.push_back(std::move(e));
    } catch (const Error& e) {
      fail("encoding texts {}..{}: {}", first, first + n - 1, e.what());
    }
    report("texts", first + n, T);
  }
  result.texts_seconds = seconds_since(start);
  if (int64_t(encoded_texts.size()) != T)
    fail("retrieve: the scorer returned {} text encodings for {} texts", encoded_texts.size(), T);

  const int64_t pairs = image_count * T;
  report("pairs", 0, pairs);
  result.scores = Tensor::zeros(Shape{image_count, T}, DType::F32);
  std::vector<Tensor> image_embeddings;
  std::vector<const Encoding*> image_side, text_side;
  for (int64_t first_image = 0; first_image < image_count; first_image += batch) {
    const int64_t n_images = std::min(batch, image_count - first_image);
    start = Clock::now();
    std::vector<Image> loaded;
    for (int64_t i = first_image; i < first_image + n_images; ++i) loaded.push_back(image_at(i));
    std::vector<std::unique_ptr<Encoding>> images;
    try {
      images = scorer->encode_images(options.by, loaded);
    } catch (const Error& e) {
      fail("encoding images {}..{} ({}...): {}", first_image, first_image + n_images - 1, loaded.front().source,
           e.what());
    }
    if (int64_t(images.size()) != n_images)
      fail("retrieve: the scorer returned {} image encodings for {} images", images.size(), n_images);
    for (const auto& e : images) image_embeddings.push_back(e->embedding());
    result.images_seconds += seconds_since(start);

    // This batch's pairs, image-major, in batches of pairs.
    start = Clock::now();
    const int64_t first_pair = first_image * T, end_pair = (first_image + n_images) * T;
    for (int64_t first = first_pair; first < end_pair; first += batch) {
      const int64_t n = std::min(batch, end_pair - first);
      image_side.clear();
      text_side.clear();
      for (int64_t p = first; p < first + n; ++p) {
        image_side.push_back(images[size_t(p / T - first_image)].get());
        text_side.push_back(encoded_texts[size_t(p % T)].get());
      }
      const Tensor scores = scorer->score_pairs(options.by, image_side, text_side).to(DType::F32);
      if (scores.numel() != n) fail("retrieve: the scorer returned {} scores for {} pairs", scores.numel(), n);
      std::copy_n(scores.data<float>(), n, result.scores.data<float>() + first);
      report("pairs", first + n, pairs);
    }
    result.pairs_seconds += seconds_since(start);
  }

  result.image_embeds = stack_embeddings(image_embeddings);
  std::vector<Tensor> text_embeddings;
  for (const auto& e : encoded_texts) text_embeddings.push_back(e->embedding());
  result.text_embeds = stack_embeddings(text_embeddings);
  result.texts_for_image = rank(result.scores, options.top_k, false);
  result.images_for_text = rank(result.scores, options.top_k, true);
  return result;
}

}  // namespace vlm
