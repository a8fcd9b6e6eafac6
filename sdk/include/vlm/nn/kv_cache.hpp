#pragma once
// Key/value cache for independent sequences. `slots` sequences of up to `capacity` positions each are
// reserved up front: per layer K and V are [slots, capacity, kv_heads, head_dim]. A sequence takes a free
// slot, appends positions at its own length, and gives the slot back when it ends, so sequences join and
// leave between forwards with nothing reallocated mid-run. (Slots rather than pages: a request's whole
// context is one contiguous plane, which the attention op reads directly; see docs/ARCHITECTURE.md.)
#include <cstdint>
#include <vector>

#include "vlm/backend/backend.hpp"

namespace vlm {

class KVCache {
 public:
  // `dtype` F32, or BF16 to halve the cache's memory (keys and values rounded when stored).
  KVCache(Backend& backend, int64_t layers, int64_t slots, int64_t capacity, int64_t kv_heads, int64_t head_dim,
          DType dtype = DType::F32);

  int64_t slots() const { return int64_t(lengths_.size()); }
  int64_t capacity() const { return capacity_; }
  int64_t layers() const { return int64_t(keys_.size()); }
  DType dtype() const { return dtype_; }
  size_t bytes() const;  // reserved for keys and values
  int64_t in_use() const;
  // A free slot, empty; Error when every slot is taken.
  int acquire();
  // Ends the slot's sequence; the slot is free again.
  void release(int slot);
  // Positions stored for the slot's sequence so far.
  int64_t length(int slot) const;
  // Error unless `steps` more positions fit in the slot (checked before a forward, so nothing is half-done).
  void check_room(int slot, int64_t steps) const;

  // Stores k, v [S, kv_heads, head_dim] of `layer` at positions [length, length + S) of the slot.
  void write(int layer, int slot, const Tensor& k, const Tensor& v);
  // After every layer wrote S positions of the slot: its length grows by S.
  void advance(int slot, int64_t steps);
  // The slot's keys / values of `layer` as [1, capacity, kv_heads, head_dim] (valid up to length + pending).
  Tensor keys(int layer, int slot) const;
  Tensor values(int layer, int slot) const;

 private:
  void check_slot(int slot) const;

  int64_t capacity_, kv_heads_, head_dim_;
  DType dtype_;
  Backend* backend_;
  std::vector<Tensor> keys_, values_;
  std::vector<int64_t> lengths_;  // -1: free
};

}  // namespace vlm
