#pragma once
// Reusable scratch tensors on one backend. A slot's buffer grows when a larger shape is asked for and is
// reused otherwise, so a decode step allocates nothing once shapes have been seen. Views of one slot
// alias each other: use one slot name per live intermediate.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// Workspaces lent to concurrent callers of one shared component (a vision tower serving several sessions):
// a call borrows one, and gives it back when the lease ends, so steady use reallocates nothing while
// calls on other threads get workspaces of their own.
class WorkspacePool {
 public:
  explicit WorkspacePool(Backend& backend) : backend_(&backend) {}
  class Lease {
   public:
    Lease(WorkspacePool& pool, std::unique_ptr<Workspace> ws) : pool_(&pool), ws_(std::move(ws)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Workspace& operator*() const { return *ws_; }
    Workspace* operator->() const { return ws_.get(); }

   private:
    WorkspacePool* pool_;
    std::unique_ptr<Workspace> ws_;
  };
  Lease acquire();

 private:
  Backend* backend_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> free_;
};

}  // namespace vlm
