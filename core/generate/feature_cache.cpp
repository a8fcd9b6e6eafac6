#include "vlm/generate/feature_cache.hpp"

#include <cstring>
#include <string_view>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

// Two independent 64-bit hashes of the same bytes: a collision must fool both.
uint64_t fnv1a(std::string_view bytes, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool has_pixels(const ModelInputs& inputs) {
  for (const auto& [name, t] : inputs.tensors)
    if (name.starts_with("pixel_values") && t.numel() > 0) return true;
  return false;
}

Tensor encode_batch(Model& model, const ModelInputs& inputs, Trace* trace) {
  if (!has_pixels(inputs) || !model.vision_encoder()) return Tensor();
  Tensor vision = model.vision_encoder()->encode(inputs, trace);
  return model.connector() ? model.connector()->project(vision, inputs, trace) : vision;
}

}  // namespace

ImageFeatureCache::ImageFeatureCache(size_t capacity_bytes, std::string model_key, Backend& backend)
    : capacity_(capacity_bytes), model_key_(std::move(model_key)), backend_(&backend) {}

ImageFeatureCache::Key ImageFeatureCache::key_of(const Image& image) const {
  const std::string_view pixels(reinterpret_cast<const char*>(image.rgb.data()), image.rgb.size());
  const std::string header = model_key_ + "\n" + std::to_string(image.width) + "x" + std::to_string(image.height);
  Key k;
  k.a = fnv1a(pixels, fnv1a(header, 0));
  k.b = std::hash<std::string_view>{}(pixels) ^ (std::hash<std::string>{}(header) * 0x9e3779b97f4a7c15ull);
  return k;
}

ImageFeatureCache::Stats ImageFeatureCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

Tensor ImageFeatureCache::find(const Image& image) {
  const Key key = key_of(image);
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return Tensor();
  }
  ++stats_.hits;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void ImageFeatureCache::insert(const Image& image, const Tensor& features) {
  if (capacity_ == 0 || features.nbytes() > capacity_) return;
  if (!features.is_host()) fail("image feature cache: features must be host tensors");
  Tensor host = features.clone();  // the caller's tensor may be a view of reused scratch memory
  const Key key = key_of(image);
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    stats_.bytes -= it->second->second.nbytes();
    order_.erase(it->second);
    index_.erase(it);
  }
  while (stats_.bytes + host.nbytes() > capacity_ && !order_.empty()) {
    stats_.bytes -= order_.back().second.nbytes();
    index_.erase(order_.back().first);
    order_.pop_back();
    ++stats_.evictions;
  }
  stats_.bytes += host.nbytes();
  order_.emplace_front(key, std::move(host));
  index_[key] = order_.begin();
  stats_.entries = index_.size();
}

Tensor vision_features(Model& model, std::span<const Prompt> prompts, const ModelInputs& inputs,
                       ImageFeatureCache* cache, Trace* trace) {
  bool images_only = true;
  size_t images = 0;
  for (const auto& p : prompts) {
    images_only = images_only && p.videos.empty();
    images += p.images.size();
  }
  const ImageProcessor* processor = model.image_processor();
  if (!cache || cache->capacity_bytes() == 0 || trace || !images_only || images == 0 || !processor ||
      !model.vision_encoder() || !model.features_per_image())
    return encode_batch(model, inputs, trace);

  // Image by image, in the order the processor laid them out (prompt by prompt): the family encodes images
  // independently (features_per_image), so the concatenation equals the batch's features.
  Backend& backend = cache->backend();
  std::vector<Tensor> parts;
  int64_t rows = 0, width = 0;
  for (const auto& p : prompts)
    for (const auto& image : p.images) {
      Tensor features = cache->find(image);
      if (!features.defined()) {
        ModelInputs one;
        one.tensors = processor->preprocess(std::span<const Image>(&image, 1), {});
        const Tensor encoded = encode_batch(model, one, nullptr);
        if (!encoded.defined()) fail("the vision encoder produced no features for {}", image.source);
        features = backend.download(encoded);
        if (features.raw() == encoded.raw()) features = features.clone();  // own it: the next image must not reuse it
        cache->insert(image, features);
      }
      rows += features.dim(0);
      width = features.dim(-1);
      parts.push_back(std::move(features));
    }
  Tensor all = Tensor::zeros(Shape{rows, width}, DType::F32);
  int64_t at = 0;
  for (const auto& part : parts) {
    const Tensor flat = part.reshape(Shape{part.numel() / width, width});
    std::memcpy(all.data<float>() + at * width, flat.data<float>(), size_t(flat.numel()) * sizeof(float));
    at += flat.dim(0);
  }
  return backend.upload(all);
}

}  // namespace vlm
