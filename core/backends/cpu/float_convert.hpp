#pragma once
// Bulk conversions between f32 and the stored float dtypes (bf16: round-to-nearest-even, NaN kept quiet;
// f16: IEEE half, subnormals kept), matching the scalar conversions in vlm/tensor/dtype.hpp bit for bit.
#include <cstdint>
#include <vector>

#include "vlm/tensor/tensor.hpp"

namespace vlm::cpu {

// dst[i] = float(src[i]) for a float `src_dtype` (f32, bf16, f16).
void to_f32(DType src_dtype, const void* src, float* dst, int64_t n);
// dst[i] = src[i] rounded to a float `dst_dtype`.
void from_f32(const float* src, DType dst_dtype, void* dst, int64_t n);

// dst[i] = src[i] rounded to bf16 and widened back (bit for bit what from_f32 then to_f32 give);
// src == dst allowed.
void round_to_bf16(const float* src, float* dst, int64_t n);

// An f32 view of a small float tensor (norm weight, bias, one table row): the tensor's own memory when it
// is already f32, otherwise a converted copy in a per-thread buffer that is reused from call to call (ops
// run per token; decode must not allocate). Views nest (a weight and a bias) and end in reverse order.
class F32View {
 public:
  explicit F32View(const Tensor& t) {
    if (t.dtype() == DType::F32) {
      data_ = t.data<float>();
      return;
    }
    auto& pool = buffers();
    slot_ = depth()++;
    if (pool.size() <= size_t(slot_)) pool.resize(size_t(slot_) + 1);  // moving a vector keeps its data
    auto& buffer = pool[size_t(slot_)];
    if (buffer.size() < size_t(t.numel())) buffer.resize(size_t(t.numel()));
    to_f32(t.dtype(), t.raw(), buffer.data(), t.numel());
    data_ = buffer.data();
  }
  ~F32View() {
    if (slot_ >= 0) --depth();
  }
  F32View(const F32View&) = delete;
  F32View& operator=(const F32View&) = delete;
  const float* data() const { return data_; }

 private:
  static std::vector<std::vector<float>>& buffers() {
    thread_local std::vector<std::vector<float>> pool;
    return pool;
  }
  static int& depth() {
    thread_local int in_use = 0;
    return in_use;
  }
  const float* data_ = nullptr;
  int slot_ = -1;
};

}  // namespace vlm::cpu
