#pragma once
// Connector outputs of images already seen, so a chat that re-sends its images, or requests that share
// one, skip the vision encoder. Keyed by the decoded image's content (pixels and size) and a model key
// that names the model, its weights' dtype and its processor settings; bounded in bytes, least recently
// used evicted first. Thread-safe: sessions on several threads may share one cache.
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "vlm/model/family.hpp"

namespace vlm {

class ImageFeatureCache {
 public:
  // `model_key` distinguishes what the features depend on besides the pixels; features live on the host
  // and are uploaded to `backend` when used.
  ImageFeatureCache(size_t capacity_bytes, std::string model_key, Backend& backend);
  Backend& backend() const { return *backend_; }

  struct Stats {
    int64_t hits = 0, misses = 0, evictions = 0;
    size_t bytes = 0, entries = 0;
  };
  Stats stats() const;
  size_t capacity_bytes() const { return capacity_; }

  // The features of `image` (host copy), or undefined when absent.
  Tensor find(const Image& image);
  // Keeps `features` (host, the rows of one image); evicts until it fits (a larger entry is not kept).
  void insert(const Image& image, const Tensor& features);

 private:
  struct Key {
    uint64_t a = 0, b = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return size_t(k.a ^ (k.b * 0x9e3779b97f4a7c15ull)); }
  };
  Key key_of(const Image& image) const;

  size_t capacity_;
  std::string model_key_;
  Backend* backend_;
  mutable std::mutex mutex_;
  std::list<std::pair<Key, Tensor>> order_;  // most recently used first
  std::unordered_map<Key, std::list<std::pair<Key, Tensor>>::iterator, KeyHash> index_;
  Stats stats_;
};

// The connector output for a batch of prompts: with a cache and image-only prompts, image by image (hits
// skip the vision encoder); otherwise the whole batch at once. Undefined when the batch has no pixels.
// `inputs` is the processor's output for `prompts`. Traced runs bypass the cache so every intermediate is
// recorded.
Tensor vision_features(Model& model, std::span<const Prompt> prompts, const ModelInputs& inputs,
                       ImageFeatureCache* cache, Trace* trace);

}  // namespace vlm
