#include "vlm/nn/kv_cache.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

KVCache::KVCache(Backend& backend, int64_t layers, int64_t batch, int64_t capacity, int64_t kv_heads, int64_t head_dim)
    : backend_(&backend), batch_(batch), capacity_(capacity), kv_heads_(kv_heads), head_dim_(head_dim) {
  for (int64_t l = 0; l < layers; ++l) {
    keys_.push_back(backend.zeros(Shape{batch, capacity, kv_heads, head_dim}, DType::F32));
    values_.push_back(backend.zeros(Shape{batch, capacity, kv_heads, head_dim}, DType::F32));
  }
  host_mask_ = Tensor::zeros(Shape{batch, capacity}, DType::U8);
  device_mask_ = backend.upload(host_mask_);  // the same memory on the CPU
  if (device_mask_.raw() != host_mask_.raw()) device_mask_ = backend.zeros(Shape{batch, capacity}, DType::U8);
}

void KVCache::write(int layer, const Tensor& k, const Tensor& v) {
  if (layer < 0 || size_t(layer) >= keys_.size()) fail("KV cache: layer {} out of range", layer);
  if (k.rank() != 4 || v.rank() != 4)
    fail("KV cache: keys {} / values {} must be [batch, S, kv_heads, head_dim]", k.shape().str(), v.shape().str());
  const int64_t steps = k.dim(1);
  if ( k.dim(0) != batch_ || k.dim(2) != kv_heads_ || k.dim(3) != head_dim_ || !(k.shape() == v.shape()))
    fail("KV cache: keys {} / values {} do not match [batch {}, S, {}, {}]", k.shape().str(), v.shape().str(), batch_,
         kv_heads_, head_dim_);
  if (length_ + steps > capacity_)
    fail("KV cache full: {} positions used of {}, {} more requested (prompt + new tokens exceed the context "
         "reserved)",
         length_, capacity_, steps);
  const int64_t row = kv_heads_ * head_dim_;
  for (int64_t b = 0; b < batch_; ++b) {
    // One contiguous block per batch row: [length, length+steps) of that row's [capacity, row] plane.
    Tensor k_src = k.rows(b, 1).reshape(Shape{steps, row});
    Tensor v_src = v.rows(b, 1).reshape(Shape{steps, row});
    Tensor k_dst = keys_[size_t(layer)].rows(b, 1).reshape(Shape{capacity_, row}).rows(length_, steps);
    Tensor v_dst = values_[size_t(layer)].rows(b, 1).reshape(Shape{capacity_, row}).rows(length_, steps);
    backend_->copy(k_src, k_dst);
    backend_->copy(v_src, v_dst);
  }
}

void KVCache::prepare(std::span<const int64_t> mask, int64_t steps) {
  if (int64_t(mask.size()) != batch_ * steps) fail("KV cache: mask of {} values for {} x {} positions", mask.size(), batch_, steps);
  if (length_ + steps > capacity_) fail("KV cache full: {} + {} positions exceed {}", length_, steps, capacity_);
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t s = 0; s < steps; ++s)
      host_mask_.data<uint8_t>()[b * capacity_ + length_ + s] = mask[size_t(b * steps + s)] != 0 ? 1 : 0;
  if (device_mask_.raw() != host_mask_.raw()) backend_->copy(host_mask_, device_mask_);
  pending_ = steps;
}

void KVCache::commit() {
  length_ += pending_;
  pending_ = 0;
}

void KVCache::reset() {
  length_ = 0;
  pending_ = 0;
  std::memset(host_mask_.raw(), 0, host_mask_.nbytes());
  if (device_mask_.raw() != host_mask_.raw()) backend_->copy(host_mask_, device_mask_);
}

}  // namespace vlm
