#include "vlm/backend/memory_budget.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {
// Sizes as people read them: KiB below a MiB, MiB below a GiB, GiB above.
std::string size_text(size_t bytes) {
  const double kib = double(bytes) / 1024.0;
  if (kib < 1024) return fmt::format("{:.1f} KiB", kib);
  return kib < 1024 * 1024 ? fmt::format("{:.1f} MiB", kib / 1024) : fmt::format("{:.2f} GiB", kib / (1024 * 1024));
}
}  // namespace

MemoryBudget::MemoryBudget(size_t limit_bytes, std::string device)
    : limit_(limit_bytes), device_(std::move(device)), in_use_(std::make_shared<std::atomic<size_t>>(0)) {}

std::shared_ptr<const void> MemoryBudget::charge(size_t bytes, const Shape& shape, DType dtype) {
  size_t before = in_use_->load(std::memory_order_relaxed);
  do {
    if (limit_ && (bytes > limit_ || before > limit_ - bytes))
      fail("{}: a {} {} tensor needs {} with {} in use, above the memory budget of {} (--memory-budget). "
           "Use fewer or smaller images, a shorter prompt or context, fewer sequences at once, or a larger budget",
           device_, shape.str(), dtype_name(dtype), size_text(bytes), size_text(before), size_text(limit_));
  } while (!in_use_->compare_exchange_weak(before, before + bytes, std::memory_order_relaxed));
  auto counter = in_use_;
  return std::shared_ptr<const void>(nullptr, [counter, bytes](const void*) {
    counter->fetch_sub(bytes, std::memory_order_relaxed);
  });
}

size_t default_memory_budget_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  const size_t total = size_t(pages) * size_t(page);
  return total - total / 8;
}

}  // namespace vlm
