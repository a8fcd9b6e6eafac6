// Scaled dot-product attention, one block per (query row, head, batch). Keys are visited in tiles of
// blockDim.x with an online softmax (running max and sum, rescaling the accumulator), so memory stays
// O(head_dim) per block whatever the sequence length. Simple rather than fast: no tensor cores, no
// key reuse across query rows.
#include "kernels/device_common.cuh"

namespace vlm::cuda {
namespace {

constexpr int kAttentionThreads = 128;  // keys per tile; a multiple of 32 (block reductions)

__global__ void attention_kernel(AttentionArgs a) {
  extern __shared__ float shared[];
  float* query = shared;                       // [head_dim]
  float* weights = query + a.head_dim;         // [blockDim.x]: exp(score - max) of the current tile
  float* accumulator = weights + blockDim.x;   // [v_head_dim]: sum of weight * value, this thread's channels

  const int64_t i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t kv_head = h / (a.q_heads / a.kv_heads);
  const float* q = a.q + ((b * a.q_len + i) * a.q_heads + h) * a.head_dim;
  const int64_t k_row_stride = a.kv_heads * a.head_dim, v_row_stride = a.kv_heads * a.v_head_dim;
  const int64_t keys = b * a.kv_capacity * k_row_stride + kv_head * a.head_dim;      // element offsets
  const int64_t values = b * a.kv_capacity * v_row_stride + kv_head * a.v_head_dim;  // into a.k / a.v
  const uint8_t* key_mask = a.key_mask ? a.key_mask + b * a.kv_capacity : nullptr;
  const float* additive =
      a.additive_mask ? a.additive_mask + b * a.mask_batch_stride + h * a.mask_head_stride + i * a.kv_len : nullptr;

  for (int64_t d = threadIdx.x; d < a.head_dim; d += blockDim.x) query[d] = q[d];
  for (int64_t d = threadIdx.x; d < a.v_head_dim; d += blockDim.x) accumulator[d] = 0.0f;
  __syncthreads();

  // Query i sits at absolute position q_offset + i and, when causal, sees keys up to that position.
  int64_t key_end = a.kv_len;
  if (a.causal && a.q_offset + i + 1 < key_end) key_end = a.q_offset + i + 1;
  // A sliding window also drops keys at or before position - window.
  const int64_t key_begin = a.window > 0 && a.q_offset + i + 1 > a.window ? a.q_offset + i + 1 - a.window : 0;

  float running_max = -INFINITY, running_sum = 0.0f;
  for (int64_t tile = key_begin / blockDim.x * blockDim.x; tile < key_end; tile += blockDim.x) {
    const int64_t j = tile + threadIdx.x;
    float score = -INFINITY;
    if (j >= key_begin && j < key_end && (!key_mask || key_mask[j])) {
      const int64_t key = keys + j * k_row_stride;
      float dot = 0.0f;
      for (int64_t d = 0; d < a.head_dim; ++d) dot += query[d] * load_float(a.k, a.kv_type, key + d);
      score = dot * a.scale + (additive ? additive[j] : 0.0f);
    }
    const float tile_max = block_max(score);
    if (tile_max == -INFINITY) continue;  // the whole tile is masked; uniform across the block
    const float new_max = fmaxf(running_max, tile_max);
    const float correction = expf(running_max - new_max);  // 0 before the first unmasked tile
    const float weight = score == -INFINITY ? 0.0f : expf(score - new_max);
    running_sum = running_sum * correction + block_sum(weight);
    weights[threadIdx.x] = weight;
    __syncthreads();
    const int64_t tile_len = key_end - tile < blockDim.x ? key_end - tile : blockDim.x;
    for (int64_t d = threadIdx.x; d < a.v_head_dim; d += blockDim.x) {
      float sum = 0.0f;
      for (int64_t t = 0; t < tile_len; ++t)
        sum += weights[t] * load_float(a.v, a.kv_type, values + (tile + t) * v_row_stride + d);
      accumulator[d] = accumulator[d] * correction + sum;
    }
    running_max = new_max;
    __syncthreads();  // `weights` is rewritten by the next tile
  }

  // A row with every key masked has running_sum == 0 and produces zeros.
  const float inv_sum = running_sum > 0.0f ? 1.0f / running_sum : 0.0f;
  float* out = a.out + ((b * a.q_len + i) * a.q_heads + h) * a.v_head_dim;
  for (int64_t d = threadIdx.x; d < a.v_head_dim; d += blockDim.x) out[d] = accumulator[d] * inv_sum;
}

}  // namespace

cudaError_t launch_attention(const AttentionArgs& args, cudaStream_t stream) {
  if (args.batch == 0 || args.q_len == 0 || args.q_heads == 0 || args.v_head_dim == 0) return cudaSuccess;
  if (args.q_len > kMaxGridX || args.q_heads > 65535 || args.batch > 65535) return cudaErrorInvalidConfiguration;
  const size_t shared_bytes = size_t(args.head_dim + kAttentionThreads + args.v_head_dim) * sizeof(float);
  const dim3 grid(unsigned(args.q_len), unsigned(args.q_heads), unsigned(args.batch));
  attention_kernel<<<grid, kAttentionThreads, shared_bytes, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace vlm::cuda
