#include "vlm/nn/kv_cache.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm {

KVCache::KVCache(Backend& backend, int64_t layers, int64_t slots, int64_t capacity, int64_t kv_heads, int64_t head_dim,
                 DType dtype)
    : capacity_(capacity), kv_heads_(kv_heads), head_dim_(head_dim), dtype_(dtype), backend_(&backend),
      lengths_(size_t(slots), -1) {
  if (slots < 1 || capacity < 1) fail("KV cache: {} slot(s) of {} positions: both must be at least 1", slots, capacity);
  if (dtype != DType::F32 && dtype != DType::BF16)
    fail("KV cache: dtype {} is not supported (f32 or bf16)", dtype_name(dtype));
  for (int64_t l = 0; l < layers; ++l) {
    keys_.push_back(backend.zeros(Shape{slots, capacity, kv_heads, head_dim}, dtype));
    values_.push_back(backend.zeros(Shape{slots, capacity, kv_heads, head_dim}, dtype));
  }
}

size_t KVCache::bytes() const {
  size_t total = 0;
  for (size_t l = 0; l < keys_.size(); ++l) total += keys_[l].nbytes() + values_[l].nbytes();
  return total;
}

int64_t KVCache::in_use() const {
  return std::count_if(lengths_.begin(), lengths_.end(), [](int64_t n) { return n >= 0; });
}

int KVCache::acquire() {
  for (size_t i = 0; i < lengths_.size(); ++i)
    if (lengths_[i] < 0) {
      lengths_[i] = 0;
      return int(i);
    }
  fail("KV cache: all {} sequence slots are in use (the session was opened for {} concurrent sequences)",
       lengths_.size(), lengths_.size());
}

void KVCache::check_slot(int slot) const {
  if (slot < 0 || size_t(slot) >= lengths_.size() || lengths_[size_t(slot)] < 0)
    fail("KV cache: slot {} is not an active sequence", slot);
}

void KVCache::release(int slot) {
  check_slot(slot);
  lengths_[size_t(slot)] = -1;
}

int64_t KVCache::length(int slot) const {
  check_slot(slot);
  return lengths_[size_t(slot)];
}

void KVCache::check_room(int slot, int64_t steps) const {
  const int64_t used = length(slot);
  if (used + steps > capacity_)
    fail("KV cache full: {} positions used of {}, {} more requested (prompt + new tokens exceed the context "
         "reserved per sequence)",
         used, capacity_, steps);
}

void KVCache::write(int layer, int slot, const Tensor& k, const Tensor& v) {
  if (layer < 0 || size_t(layer) >= keys_.size()) fail("KV cache: layer {} out of range", layer);
  if (k.rank() != 3 || !(k.shape() == v.shape()) || k.dim(1) != kv_heads_ || k.dim(2) != head_dim_)
    fail("KV cache: keys {} / values {} do not match [S, {}, {}]", k.shape().str(), v.shape().str(), kv_heads_,
         head_dim_);
  const int64_t steps = k.dim(0);
  check_room(slot, steps);
  const int64_t row = kv_heads_ * head_dim_, at = lengths_[size_t(slot)];
  Tensor k_dst = keys_[size_t(layer)].rows(slot, 1).reshape(Shape{capacity_, row}).rows(at, steps);
  Tensor v_dst = values_[size_t(layer)].rows(slot, 1).reshape(Shape{capacity_, row}).rows(at, steps);
  if (k.dtype() == dtype_) {
    backend_->copy(k.reshape(Shape{steps, row}), k_dst);
    backend_->copy(v.reshape(Shape{steps, row}), v_dst);
  } else {  // f32 activations into a bf16 cache
    backend_->convert(k.reshape(Shape{steps, row}), k_dst);
    backend_->convert(v.reshape(Shape{steps, row}), v_dst);
  }
}

void KVCache::advance(int slot, int64_t steps) {
  check_room(slot, steps);
  lengths_[size_t(slot)] += steps;
}

Tensor KVCache::keys(int layer, int slot) const {
  check_slot(slot);
  return keys_.at(size_t(layer)).rows(slot, 1);
}

Tensor KVCache::values(int layer, int slot) const {
  check_slot(slot);
  return values_.at(size_t(layer)).rows(slot, 1);
}

}  // namespace vlm
