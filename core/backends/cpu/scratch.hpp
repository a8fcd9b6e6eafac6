#pragma once
// A growable, 64-byte aligned scratch buffer. It only ever grows, so in steady state (same or smaller
// shapes) acquiring it allocates nothing.
#include <cstddef>
#include <cstdlib>
#include <new>

namespace vlm::cpu {

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(data_); }

  // At least `bytes` bytes; previous contents are not preserved.
  void* get(size_t bytes) {
    if (bytes > capacity_) {
      std::free(data_);
      capacity_ = (bytes + 63) / 64 * 64;
      data_ = std::aligned_alloc(64, capacity_);
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
    }
    return data_;
  }
  template <typename T> T* get(size_t count) { return static_cast<T*>(get(count * sizeof(T))); }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace vlm::cpu
