#pragma once
// A caching device allocator, so steady-state decoding (the same shapes every token) never calls cudaMalloc.
//
// Released blocks go back to a free list, not to cudaFree. That is safe without events because a backend
// enqueues all its work on one stream: a block's next user is ordered after its previous user's kernels.
// Every tensor's keep-alive owner holds the allocator, so the cache outlives the backend if tensors do.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace vlm::cuda {

class DeviceAllocator : public std::enable_shared_from_this<DeviceAllocator> {
 public:
  static std::shared_ptr<DeviceAllocator> create(int device) {
    return std::shared_ptr<DeviceAllocator>(new DeviceAllocator(device));
  }
  ~DeviceAllocator();
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;

  // At least `bytes` of device memory (null for 0 bytes); destroying the owner returns it to the cache.
  std::shared_ptr<void> allocate(size_t bytes);
  // cudaFree every cached block (done automatically before retrying an allocation that ran out of memory).
  // Safe while queued kernels may still touch those blocks: cudaFree waits for the device to go idle.
  void release_cached();

 private:
  explicit DeviceAllocator(int device) : device_(device) {}
  void give_back(void* block, size_t bytes);
  void free_cached_locked();

  int device_;
  std::mutex mutex_;
  std::multimap<size_t, void*> free_blocks_;  // by size, for best-fit lookup
};

}  // namespace vlm::cuda
