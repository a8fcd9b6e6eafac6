#pragma once
// x @ W^T (+ bias) through oneDNN matmul primitives, built once per shape and kept in an LRU cache.
//
// Weight dtypes:
//  * f32:  f32 x f32 -> f32.
//  * bf16: as matmul_path.hpp decides for this CPU. onednn: bf16 x bf16 -> f32 with the bias fused, f32
//          activations rounded to bf16 into a reused scratch buffer, 1-8 rows through the own dot-form
//          kernel. widen: f32 compute on the bf16 weights widened as they are read (the own kernel below
//          kWidenedBlockRows rows, widened blocks + oneDNN f32 above), on activations rounded to bf16 so
//          the products are those of the bf16 path. The weight itself is used in place, never copied whole.
//  * q8, q4 (quantised, vlm/tensor/quantized.hpp): up to 8 rows through the own int8 kernel
//          (quant_gemm.hpp), more rows on blocks of weights dequantised to bf16 (f32 on the widen path).
//  * f16:  oneDNN 2.6 has no f16 matmul on AVX-512 CPUs without AVX512-FP16 (primitive creation fails),
//          so f16 weights are widened as they are read, the same two ways as bf16 on the widen path.
//
// The [N, K] torch layout is described to oneDNN as a transposed (column-major) [K, N] memory, so no
// per-call reorder of the (memory-mapped) weight happens.
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "scratch.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm::cpu {

class OnednnMatmul {
 public:
  OnednnMatmul();

  void run(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out, bool w_transposed);

  // Drops every cached primitive; needed when the thread count changes, because oneDNN fixes its work
  // partitioning when a primitive is created.
  void clear();
  // How many primitives were ever created (tests assert that repeated shapes reuse them).
  int64_t primitives_built() const;
  static const char* isa_name();

 private:
  // One GEMM problem as oneDNN sees it: src [m, k] row-major, weights [k, n] (transposed = stored [n, k]),
  // dst [m, n] f32 with row stride ldd, bias f32 [n] when has_bias.
  struct GemmKey {
    int64_t m = 0;  // kRuntimeM for the runtime-M primitive
    int64_t n = 0, k = 0, ldd = 0;
    dnnl::memory::data_type src_type{}, weight_type{};
    bool has_bias = false;
    bool transposed = true;
    bool operator==(const GemmKey&) const = default;
  };
  struct GemmKeyHash {
    size_t operator()(const GemmKey& key) const;
  };
  struct Primitive {
    dnnl::matmul matmul;
    dnnl::memory src, weights, bias, dst;
    int64_t memory_m = -1;  // rows the src/dst memories describe (the runtime-M primitive rebinds them)
    std::unordered_map<int, dnnl::memory> args;  // kept so executing allocates nothing
    std::list<GemmKey>::iterator lru_position;
  };
  static constexpr int64_t kRuntimeM = -1;
  static constexpr size_t kCapacity = 256;

  Primitive& primitive(const GemmKey& key);
  void bind_rows(Primitive& p, const GemmKey& key, int64_t m);
  void gemm(GemmKey key, int64_t m, const void* src, const void* weights, const float* bias, float* dst);
  // Widens (bf16, f16) or dequantises (Q8, Q4) blocks of weight rows into a buffer of `block_type` (f32,
  // or bf16 for quantised weights) and runs oneDNN on each block; x is of `block_type` too.
  void run_blocks(int64_t m, int64_t n, int64_t k, const void* x, DType block_type, const Tensor& w,
                  const float* bias, float* out, bool w_transposed);
  // x as bf16: itself, or rounded into the activations scratch.
  const uint16_t* bf16_activations(const Tensor& x, int64_t count);

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::mutex mutex_;  // one matmul at a time: the scratch buffers and the cache are shared
  std::unordered_map<GemmKey, Primitive, GemmKeyHash> cache_;
  std::list<GemmKey> lru_;  // most recently used first
  int64_t built_ = 0;
  ScratchBuffer activations_, bias_, weight_block_;
};

}  // namespace vlm::cpu
