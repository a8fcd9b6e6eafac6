// Elementwise kernels: one grid-stride loop each. Each output element is computed only from inputs at the
// same index (or, for rotary, from the pair a thread owns), which is what makes in-place calls safe.
#include "kernels/device_common.cuh"

namespace vlm::cuda {
namespace {

__device__ float activate(ActivationKind kind, float x) {
  switch (kind) {
    case ActivationKind::GeluErf: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case ActivationKind::GeluTanh: {
      const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);  // sqrt(2/pi)
      return 0.5f * x * (1.0f + tanhf(inner));
    }
    case ActivationKind::QuickGelu: return x / (1.0f + expf(-1.702f * x));
    case ActivationKind::Silu: return x / (1.0f + expf(-x));
    case ActivationKind::Relu: return x > 0.0f ? x : 0.0f;
  }
  return x;
}

__global__ void convert_kernel(const void* src, FloatType src_type, void* dst, FloatType dst_type,
                               int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride())
    store_float(dst, dst_type, i, load_float(src, src_type, i));
}

__global__ void binary_kernel(BinaryOp op, const float* a, const void* b, FloatType b_type, float* out,
                              int64_t count, int64_t b_count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) {
    const float rhs = load_float(b, b_type, i % b_count);
    out[i] = op == BinaryOp::Add ? a[i] + rhs : a[i] * rhs;
  }
}

__global__ void scale_kernel(const float* x, float factor, float* out, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) out[i] = x[i] * factor;
}

__global__ void activation_kernel(ActivationKind kind, const float* x, float* out, int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride()) out[i] = activate(kind, x[i]);
}

__global__ void gated_activation_kernel(ActivationKind kind, const float* gate, const float* up, float* out,
                                        int64_t count) {
  for (int64_t i = global_thread_index(); i < count; i += grid_stride())
    out[i] = activate(kind, gate[i]) * up[i];
}

// A thread owns either the rotated pair (c, c + half) of one head row, or one pass-through channel.
// Reading both halves before writing either keeps in-place calls correct.
__global__ void rotary_kernel(RotaryArgs a) {
  const int64_t half = a.rotary_dim / 2;
  const int64_t lanes = half + (a.head_dim - a.rotary_dim);
  const int64_t count = a.batch * a.seq * a.heads * lanes;
  for (int64_t e = global_thread_index(); e < count; e += grid_stride()) {
    const int64_t lane = e % lanes;
    const int64_t row = e / lanes;  // (b, s, h) flattened
    const int64_t s = (row / a.heads) % a.seq;
    const int64_t b = row / (a.heads * a.seq);
    const float* x = a.x + row * a.head_dim;
    float* out = a.out + row * a.head_dim;
    if (lane < half) {
      const int64_t table = ((a.cos_per_batch ? b : 0) * a.seq + s) * a.rotary_dim;
      const float x1 = x[lane], x2 = x[lane + half];
      // rotate_half(x) = [-x2, x1]
      out[lane] = x1 * a.cos[table + lane] - x2 * a.sin[table + lane];
      out[lane + half] = x2 * a.cos[table + lane + half] + x1 * a.sin[table + lane + half];
    } else {
      const int64_t c = a.rotary_dim + (lane - half);
      out[c] = x[c];
    }
  }
}

}  // namespace

cudaError_t probe_kernel_image() {
  cudaFuncAttributes attributes;
  return cudaFuncGetAttributes(&attributes, convert_kernel);
}

cudaError_t launch_convert(const void* src, FloatType src_type, void* dst, FloatType dst_type, int64_t count,
                           cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  convert_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(src, src_type, dst, dst_type, count);
  return cudaGetLastError();
}

cudaError_t launch_binary(BinaryOp op, const float* a, const void* b, FloatType b_type, float* out,
                          int64_t count, int64_t b_count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  binary_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(op, a, b, b_type, out, count,
                                                                            b_count);
  return cudaGetLastError();
}

cudaError_t launch_scale(const float* x, float factor, float* out, int64_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  scale_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(x, factor, out, count);
  return cudaGetLastError();
}

cudaError_t launch_activation(ActivationKind kind, const float* x, float* out, int64_t count,
                              cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  activation_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(kind, x, out, count);
  return cudaGetLastError();
}

cudaError_t launch_gated_activation(ActivationKind kind, const float* gate, const float* up, float* out,
                                    int64_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  gated_activation_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(kind, gate, up, out,
                                                                                      count);
  return cudaGetLastError();
}

cudaError_t launch_rotary(const RotaryArgs& args, cudaStream_t stream) {
  const int64_t lanes = args.rotary_dim / 2 + (args.head_dim - args.rotary_dim);
  const int64_t count = args.batch * args.seq * args.heads * lanes;
  if (count == 0) return cudaSuccess;
  rotary_kernel<<<elementwise_blocks(count), kThreadsPerBlock, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace vlm::cuda
