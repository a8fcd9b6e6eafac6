#pragma once
// Key/value cache for a batch of sequences that advance together (left padding keeps them aligned):
// per layer K and V of [batch, capacity, kv_heads, head_dim], plus the key mask that marks padding.
#include <cstdint>
#include <span>
#include <vector>

#include "vlm/backend/backend.hpp"

namespace vlm {

class KVCache {
 public:
  KVCache(Backend& backend, int64_t layers, int64_t batch, int64_t capacity, int64_t kv_heads, int64_t head_dim);

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // positions filled so far (same for every row)
  const Tensor& keys(int layer) const { return keys_[size_t(layer)]; }
  const Tensor& values(int layer) const { return values_[size_t(layer)]; }
  const Tensor& key_mask() const { return device_mask_; }  // [batch, capacity] u8, 1 = attendable

  // Stores k, v [batch, S, kv_heads, head_dim] of `layer` at positions [length, length + S).
  void write(int layer, const Tensor& k, const Tensor& v);
  // A forward over S new positions: prepare() marks positions [length, length + S) attendable per row
  // (`mask` [batch, S], 1 = real token, 0 = padding) before the layers run; each layer write()s; commit()
  // then advances length by S.
  void prepare(std::span<const int64_t> mask, int64_t steps);
  void commit();
  // Drops everything (for reuse with a new batch of the same size).
  void reset();

 private:
  Backend* backend_;
  int64_t batch_, capacity_, kv_heads_, head_dim_;
  int64_t length_ = 0;
  int64_t pending_ = 0;
  std::vector<Tensor> keys_, values_;
  Tensor host_mask_, device_mask_;
};

}  // namespace vlm
