// Gathers: embedding rows and general permutation (patchify is a permutation too). Concat and slice are
// strided copies and need no kernel (cudaMemcpy2DAsync in the .cpp layer).
#include "kernels/device_common.cuh"

namespace vlm::cuda {
namespace {

__global__ void embedding_kernel(const int64_t* ids, int64_t count, const void* table, FloatType table_type,
                                 int64_t dim, float* out) {
  const int64_t total = count * dim;
  for (int64_t e = global_thread_index(); e < total; e += grid_stride()) {
    const int64_t n = e / dim, c = e % dim;
    out[e] = load_float(table, table_type, ids[n] * dim + c);
  }
}

template <typename Element>
__device__ void permute_elements(const PermuteArgs& a) {
  const Element* src = static_cast<const Element*>(a.src);
  Element* dst = static_cast<Element*>(a.dst);
  for (int64_t o = global_thread_index(); o < a.count; o += grid_stride()) {
    int64_t remaining = o, source = 0;
    for (int d = a.rank - 1; d >= 0; --d) {
      source += (remaining % a.out_dims[d]) * a.src_strides[d];
      remaining /= a.out_dims[d];
    }
    dst[o] = src[source];
  }
}

// Elements are moved as opaque words of their byte width, so every dtype shares one kernel.
__global__ void permute_kernel(PermuteArgs a) {
  switch (a.element_bytes) {
    case 1: permute_elements<uint8_t>(a); break;
    case 2: permute_elements<uint16_t>(a); break;
    case 4: permute_elements<uint32_t>(a); break;
    default: permute_elements<uint64_t>(a); break;
  }
}

}  // namespace

cudaError_t launch_embedding(const int64_t* ids, int64_t count, const void* table, FloatType table_type,
                             int64_t dim, float* out, cudaStream_t stream) {
  if (count == 0 || dim == 0) return cudaSuccess;
  embedding_kernel<<<elementwise_blocks(count * dim), kThreadsPerBlock, 0, stream>>>(ids, count, table,
                                                                                    table_type, dim, out);
  return cudaGetLastError();
}

cudaError_t launch_permute(const PermuteArgs& args, cudaStream_t stream) {
  if (args.count == 0) return cudaSuccess;
  if (args.element_bytes != 1 && args.element_bytes != 2 && args.element_bytes != 4 && args.element_bytes != 8)
    return cudaErrorInvalidValue;
  permute_kernel<<<elementwise_blocks(args.count), kThreadsPerBlock, 0, stream>>>(args);
  return cudaGetLastError();
}

}  // namespace vlm::cuda
