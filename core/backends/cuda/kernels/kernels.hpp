#pragma once
// Launchers for the backend's CUDA kernels. The .cu files compile as C++17 with nvcc, so this header
// carries only POD arguments; the SDK's C++20 types stay in the .cpp layer, which validates shapes first.
// Every launcher enqueues on `stream`, does nothing for empty work, and returns cudaGetLastError() so the
// caller can report a failed launch by op name.
#include <cstdint>

#include <cuda_runtime_api.h>

namespace vlm::cuda {

// The float storage types a kernel can read or write (activations are always f32).
enum class FloatType : int { F32, F16, BF16 };

// Same order as vlm::Activation; the .cpp layer maps one to the other explicitly.
enum class ActivationKind : int { GeluErf, GeluTanh, QuickGelu, Silu, Relu };

enum class BinaryOp : int { Add, Mul };

constexpr int kMaxPermuteRank = 8;

// ---- elementwise.cu ----
// cudaErrorNoKernelImageForDevice (or another error) when this library has no code the current device can
// run, e.g. a GPU older than the architectures it was built for; cudaSuccess otherwise.
cudaError_t probe_kernel_image();
cudaError_t launch_convert(const void* src, FloatType src_type, void* dst, FloatType dst_type, int64_t count,
                           cudaStream_t stream);
// out[i] = a[i] op b[i % b_count]: b broadcast over a's leading dims. out may be a.
cudaError_t launch_binary(BinaryOp op, const float* a, const void* b, FloatType b_type, float* out,
                          int64_t count, int64_t b_count, cudaStream_t stream);
cudaError_t launch_scale(const float* x, float factor, float* out, int64_t count, cudaStream_t stream);
cudaError_t launch_activation(ActivationKind kind, const float* x, float* out, int64_t count,
                              cudaStream_t stream);
// out = act(gate) * up; out may be gate.
cudaError_t launch_gated_activation(ActivationKind kind, const float* gate, const float* up, float* out,
                                    int64_t count, cudaStream_t stream);

struct RotaryArgs {
  const float* x;    // [batch, seq, heads, head_dim]
  const float* cos;  // [batch or 1, seq, rotary_dim]
  const float* sin;
  float* out;        // like x; may be x
  int64_t batch, seq, heads, head_dim, rotary_dim;
  bool cos_per_batch;  // false: cos/sin have a leading dim of 1, shared by every batch
};
cudaError_t launch_rotary(const RotaryArgs& args, cudaStream_t stream);

// ---- row_reductions.cu: one block per row of `cols` values ----
cudaError_t launch_rms_norm(const float* x, const void* weight, FloatType weight_type, float eps, float* out,
                            int64_t rows, int64_t cols, cudaStream_t stream);
// bias may be null.
cudaError_t launch_layer_norm(const float* x, const void* weight, FloatType weight_type, const void* bias,
                              FloatType bias_type, float eps, float* out, int64_t rows, int64_t cols,
                              cudaStream_t stream);
cudaError_t launch_softmax(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream);

// ---- attention.cu ----
struct AttentionArgs {
  const float* q;  // [batch, q_len, q_heads, head_dim]
  const void* k;   // [batch, kv_capacity, kv_heads, head_dim], kv_type
  const void* v;   // [batch, kv_capacity, kv_heads, v_head_dim], kv_type
  FloatType kv_type;  // F32, or BF16 for a bf16 KV cache
  float* out;      // [batch, q_len, q_heads, v_head_dim]
  int64_t batch, q_len, q_heads, kv_heads, head_dim, v_head_dim, kv_capacity, kv_len;
  float scale;
  bool causal;
  int64_t q_offset;
  int64_t window;  // > 0: keys (position - window, position] only
  const uint8_t* key_mask;  // [batch, kv_capacity] or null
  // Additive f32 mask or null; element (b, h, i, j) is at b*batch_stride + h*head_stride + i*kv_len + j
  // (a stride is 0 where the mask broadcasts).
  const float* additive_mask;
  int64_t mask_batch_stride, mask_head_stride;
};
cudaError_t launch_attention(const AttentionArgs& args, cudaStream_t stream);

// ---- layout.cu ----
// out[n, :] = table[ids[n], :] as f32. The ids are device int64 and already range-checked by the caller.
cudaError_t launch_embedding(const int64_t* ids, int64_t count, const void* table, FloatType table_type,
                             int64_t dim, float* out, cudaStream_t stream);

struct PermuteArgs {
  const void* src;
  void* dst;
  int rank;
  int element_bytes;  // 1, 2, 4 or 8
  int64_t count;
  int64_t out_dims[kMaxPermuteRank];
  // The source stride (in elements) of the input dimension that becomes output dimension i.
  int64_t src_strides[kMaxPermuteRank];
};
cudaError_t launch_permute(const PermuteArgs& args, cudaStream_t stream);

}  // namespace vlm::cuda
