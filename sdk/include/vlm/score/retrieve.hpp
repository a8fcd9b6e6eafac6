#pragma once
// Image-text retrieval with a scorer's staged interface (Scorer::encode_images / encode_texts /
// score_pairs): the host side of `vlm retrieve`, the same for every scoring family. Each image and each
// text is encoded once, in batches; every image-text pair is scored, in batches of pairs; each image gets
// its texts ranked and each text its images. The texts' encodings are kept throughout, the images' one
// batch at a time.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vlm/model/family.hpp"

namespace vlm {

struct RetrievalOptions {
  std::string by = "itm";    // one of the scorer's retrieval_methods()
  int64_t top_k = 5;         // entries per ranking (clamped to the candidates there are)
  int64_t batch_size = 8;    // images or texts per encoding call, and pairs per scoring call
  // Called as each stage starts (done = 0) and after each batch: stage "texts" (texts encoded), then
  // "pairs" (pairs scored; images are encoded batch by batch in between). May be empty.
  std::function<void(std::string_view stage, int64_t done, int64_t total)> progress;
};

struct Ranked {
  int64_t index = 0;  // into the images or the texts
  float score = 0;
};

struct RetrievalResult {
  Tensor scores;        // [images, texts] f32: score_pairs of every pair
  Tensor image_embeds;  // [images, E] f32 when the method compares embeddings; otherwise undefined
  Tensor text_embeds;   // [texts, E] likewise
  std::vector<std::vector<Ranked>> texts_for_image;  // per image, best first
  std::vector<std::vector<Ranked>> images_for_text;  // per text, best first
  double images_seconds = 0, texts_seconds = 0, pairs_seconds = 0;
};

// `image_count` images, each obtained from `image_at(i)` when its batch is encoded (a folder of many
// images is never decoded all at once), against `texts`. Errors: no scorer, an unknown method, no image
// or no text; a failing batch's error names the images or texts it held.
RetrievalResult retrieve(Model& model, int64_t image_count, const std::function<Image(int64_t)>& image_at,
                         std::span<const std::string> texts, const RetrievalOptions& options);

// The `top_k` best columns of each row of `scores` [rows, columns] (of each column with `by_column`),
// highest first, equal scores in index order.
std::vector<std::vector<Ranked>> rank(const Tensor& scores, int64_t top_k, bool by_column);

}  // namespace vlm
