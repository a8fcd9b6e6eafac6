#include "vlm/nn/workspace.hpp"

namespace vlm {

Tensor Workspace::get(std::string_view slot, const Shape& shape, DType dtype) {
  const size_t bytes = storage_bytes(shape, dtype);
  auto it = buffers_.find(slot);
  if (it == buffers_.end() || it->second.nbytes() < bytes) {
    // Grow geometrically so a sequence that lengthens token by token reallocates O(log n) times.
    const size_t previous = it == buffers_.end() ? 0 : it->second.nbytes();
    const size_t capacity = std::max(bytes, previous + previous / 2);
    Tensor buffer = backend_->empty(Shape{int64_t(capacity)}, DType::U8);
    if (it == buffers_.end())
      it = buffers_.emplace(std::string(slot), std::move(buffer)).first;
    else
      it->second = std::move(buffer);
  }
  const Tensor& buffer = it->second;
  return Tensor::borrow(const_cast<void*>(buffer.raw()), shape, dtype, buffer.device(), buffer.owner());
}

Tensor Workspace::to_device(std::string_view slot, const Tensor& host) {
  if (backend_->device() == host.device()) return host;
  Tensor device = get(slot, host.shape(), host.dtype());
  backend_->copy(host, device);
  return device;
}

size_t Workspace::bytes_reserved() const {
  size_t total = 0;
  for (const auto& [name, t] : buffers_) total += t.nbytes();
  return total;
}

WorkspacePool::Lease WorkspacePool::acquire() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return Lease(*this, std::make_unique<Workspace>(*backend_));
  auto ws = std::move(free_.back());
  free_.pop_back();
  return Lease(*this, std::move(ws));
}

WorkspacePool::Lease::~Lease() {
  if (!ws_) return;  // moved from
  std::lock_guard lock(pool_->mutex_);
  pool_->free_.push_back(std::move(ws_));
}

}  // namespace vlm
