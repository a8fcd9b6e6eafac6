#pragma once
// Reusable scratch tensors on one backend. A slot's buffer grows when a larger shape is asked for and is
// reused otherwise, so a decode step allocates nothing once shapes have been seen. Views of one slot
// alias each other: use one slot name per live intermediate.
#include <map>
#include <string>
#include <string_view>

#include "vlm/backend/backend.hpp"

namespace vlm {

class Workspace {
 public:
  explicit Workspace(Backend& backend) : backend_(&backend) {}
  Tensor get(std::string_view slot, const Shape& shape, DType dtype = DType::F32);
  // A host tensor made usable by the backend: the tensor itself on the CPU, otherwise a copy into the
  // slot's reused device buffer (per-token tables cost no allocation once warmed up).
  Tensor to_device(std::string_view slot, const Tensor& host);
  Backend& backend() const { return *backend_; }
  size_t bytes_reserved() const;

 private:
  Backend* backend_;
  std::map<std::string, Tensor, std::less<>> buffers_;
};

}  // namespace vlm
