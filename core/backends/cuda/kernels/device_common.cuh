#pragma once
// Device helpers shared by the kernels: typed loads/stores, launch geometry, block reductions.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/kernels.hpp"

namespace vlm::cuda {

constexpr int kThreadsPerBlock = 256;
// Grid-stride loops cover any count; this bounds the grid so its size never overflows.
constexpr int64_t kMaxBlocks = 65535;

inline unsigned elementwise_blocks(int64_t count) {
  const int64_t blocks = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return unsigned(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// gridDim.x limit, for kernels that launch one block per row.
constexpr int64_t kMaxGridX = 2147483647;

__device__ inline int64_t global_thread_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

__device__ inline float load_float(const void* data, FloatType type, int64_t i) {
  switch (type) {
    case FloatType::F16: return __half2float(static_cast<const __half*>(data)[i]);
    case FloatType::BF16: return __bfloat162float(static_cast<const __nv_bfloat16*>(data)[i]);
    case FloatType::F32: break;
  }
  return static_cast<const float*>(data)[i];
}

// Round-to-nearest-even, as the host conversions in vlm/tensor/dtype.hpp.
__device__ inline void store_float(void* data, FloatType type, int64_t i, float value) {
  switch (type) {
    case FloatType::F16: static_cast<__half*>(data)[i] = __float2half_rn(value); return;
    case FloatType::BF16: static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16_rn(value); return;
    case FloatType::F32: break;
  }
  static_cast<float*>(data)[i] = value;
}

__device__ inline float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ inline float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Block-wide reductions: every thread of the block must call them (they synchronise), blockDim.x must be a
// multiple of 32, and every thread gets the result. The leading barrier makes back-to-back calls safe.
__device__ inline float block_sum(float v) {
  __shared__ float partial[32];
  v = warp_sum(v);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  const unsigned lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  return warp_sum(lane < warps ? partial[lane] : 0.0f);
}

__device__ inline float block_max(float v) {
  __shared__ float partial[32];
  v = warp_max(v);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  const unsigned lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  return warp_max(lane < warps ? partial[lane] : -INFINITY);
}

}  // namespace vlm::cuda
