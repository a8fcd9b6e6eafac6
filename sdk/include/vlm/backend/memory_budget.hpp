#pragma once
// The working memory a backend may hold at once (BackendOptions::memory_budget_bytes, `--memory-budget`):
// everything it allocates (activations, KV caches, image features), not the memory-mapped weights. Each
// allocation is charged before
// it is made and credited back when its last view goes, so a batch or context that would need more than
// the budget is refused with an Error naming the sizes, before anything is allocated for it, instead of
// meeting the kernel's OOM killer halfway through.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vlm/tensor/tensor.hpp"

namespace vlm {

// BackendOptions::memory_budget_bytes meaning "the backend's own default" (0 means no limit).
inline constexpr size_t kDefaultMemoryBudget = SIZE_MAX;

class MemoryBudget {
 public:
  // limit_bytes 0 = unlimited (still counted). `device` names the backend in errors.
  MemoryBudget(size_t limit_bytes, std::string device);
  // Charges `bytes` for a tensor of `shape` and `dtype`; the charge lasts as long as the returned handle
  // (keep it in the tensor's owner). Error when the budget would be exceeded.
  std::shared_ptr<const void> charge(size_t bytes, const Shape& shape, DType dtype);
  size_t in_use() const { return in_use_->load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  std::string device_;
  std::shared_ptr<std::atomic<size_t>> in_use_;  // shared with outstanding charges, which may outlive us
};

// The default budget: the machine's physical memory less an eighth for the system (0 when unknown).
size_t default_memory_budget_bytes();

}  // namespace vlm
