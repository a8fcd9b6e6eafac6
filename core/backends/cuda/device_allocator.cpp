#include "device_allocator.hpp"

#include <cuda_runtime_api.h>

#include "cuda_status.hpp"

namespace vlm::cuda {
namespace {

// Rounding makes nearby sizes share blocks; a cached block is reused only when it wastes at most half.
size_t rounded_size(size_t bytes) {
  constexpr size_t kSmallGranule = 512, kLargeGranule = size_t(2) << 20, kLargeFrom = size_t(1) << 20;
  const size_t granule = bytes < kLargeFrom ? kSmallGranule : kLargeGranule;
  return (bytes + granule - 1) / granule * granule;
}

}  // namespace

DeviceAllocator::~DeviceAllocator() {
  // Errors are ignored: at process exit the CUDA runtime may already be shutting down.
  std::lock_guard lock(mutex_);
  if (cudaSetDevice(device_) == cudaSuccess) free_cached_locked();
}

std::shared_ptr<void> DeviceAllocator::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = rounded_size(bytes);
  void* block = nullptr;
  size_t block_size = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = free_blocks_.lower_bound(size);
    if (it != free_blocks_.end() && it->first <= 2 * size) {
      block_size = it->first;
      block = it->second;
      free_blocks_.erase(it);
    }
  }
  if (!block) {
    cudaError_t status = cudaMalloc(&block, size);
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // clear the error before retrying with the cache emptied
      release_cached();
      status = cudaMalloc(&block, size);
    }
    check_cuda(status, "cudaMalloc");
    block_size = size;
  }
  auto self = shared_from_this();
  return std::shared_ptr<void>(block, [self, block_size](void* p) { self->give_back(p, block_size); });
}

void DeviceAllocator::give_back(void* block, size_t bytes) {
  std::lock_guard lock(mutex_);
  free_blocks_.emplace(bytes, block);
}

void DeviceAllocator::release_cached() {
  std::lock_guard lock(mutex_);
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  free_cached_locked();
}

void DeviceAllocator::free_cached_locked() {
  for (const auto& [bytes, block] : free_blocks_) (void)cudaFree(block);
  free_blocks_.clear();
}

}  // namespace vlm::cuda
