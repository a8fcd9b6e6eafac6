// Per-row kernels (normalisations, softmax): one block per row, block reductions across its columns.
// Every element is read and then written by the same thread after the reductions, so in-place is safe.
#include "kernels/device_common.cuh"

namespace vlm::cuda {
namespace {

__global__ void rms_norm_kernel(const float* x, const void* weight, FloatType weight_type, float eps, float* out,
                                int64_t cols) {
  const float* in_row = x + int64_t(blockIdx.x) * cols;
  float* out_row = out + int64_t(blockIdx.x) * cols;
  float sum_squares = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum_squares += in_row[c] * in_row[c];
  const float inv_rms = rsqrtf(block_sum(sum_squares) / float(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    out_row[c] = in_row[c] * inv_rms * load_float(weight, weight_type, c);
}

// Two passes (mean, then centred variance) rather than E[x^2] - E[x]^2, which cancels badly.
__global__ void layer_norm_kernel(const float* x, const void* weight, FloatType weight_type, const void* bias,
                                  FloatType bias_type, float eps, float* out, int64_t cols) {
  const float* in_row = x + int64_t(blockIdx.x) * cols;
  float* out_row = out + int64_t(blockIdx.x) * cols;
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += in_row[c];
  const float mean = block_sum(sum) / float(cols);
  float sum_squares = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float centred = in_row[c] - mean;
    sum_squares += centred * centred;
  }
  const float inv_std = rsqrtf(block_sum(sum_squares) / float(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float shift = bias ? load_float(bias, bias_type, c) : 0.0f;
    out_row[c] = (in_row[c] - mean) * inv_std * load_float(weight, weight_type, c) + shift;
  }
}

__global__ void softmax_kernel(const float* x, float* out, int64_t cols) {
  const float* in_row = x + int64_t(blockIdx.x) * cols;
  float* out_row = out + int64_t(blockIdx.x) * cols;
  float row_max = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) row_max = fmaxf(row_max, in_row[c]);
  row_max = block_max(row_max);
  if (row_max == -INFINITY) {  // every entry masked: zeros, as attention does, rather than NaN
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out_row[c] = 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(in_row[c] - row_max);
  const float inv_sum = 1.0f / block_sum(sum);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) out_row[c] = expf(in_row[c] - row_max) * inv_sum;
}

bool empty(int64_t rows, int64_t cols) { return rows == 0 || cols == 0; }

}  // namespace

cudaError_t launch_rms_norm(const float* x, const void* weight, FloatType weight_type, float eps, float* out,
                            int64_t rows, int64_t cols, cudaStream_t stream) {
  if (empty(rows, cols)) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidConfiguration;
  rms_norm_kernel<<<unsigned(rows), kThreadsPerBlock, 0, stream>>>(x, weight, weight_type, eps, out, cols);
  return cudaGetLastError();
}

cudaError_t launch_layer_norm(const float* x, const void* weight, FloatType weight_type, const void* bias,
                              FloatType bias_type, float eps, float* out, int64_t rows, int64_t cols,
                              cudaStream_t stream) {
  if (empty(rows, cols)) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidConfiguration;
  layer_norm_kernel<<<unsigned(rows), kThreadsPerBlock, 0, stream>>>(x, weight, weight_type, bias, bias_type,
                                                                     eps, out, cols);
  return cudaGetLastError();
}

cudaError_t launch_softmax(const float* x, float* out, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (empty(rows, cols)) return cudaSuccess;
  if (rows > kMaxGridX) return cudaErrorInvalidConfiguration;
  softmax_kernel<<<unsigned(rows), kThreadsPerBlock, 0, stream>>>(x, out, cols);
  return cudaGetLastError();
}

}  // namespace vlm::cuda
