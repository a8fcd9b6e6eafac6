#pragma once
// The one path from what the user typed to a loaded model: resolve the spec, open the checkpoint, pick
// the backend, check the plugin's declared tensors and ops, then let the plugin load.
#include <memory>
#include <string>

#include "vlm/backend/backend.hpp"
#include "vlm/model/family.hpp"
#include "vlm/registry/models.hpp"

namespace vlm::registry {

struct LoadRequest {
  std::string model;           // named model, directory or repo id
  std::string device = "auto";  // auto | cpu | cuda
  int threads = 0;
  // Working memory the backend may hold (BackendOptions::memory_budget_bytes): kDefaultMemoryBudget =
  // the backend's default, 0 = no limit.
  size_t memory_budget_bytes = kDefaultMemoryBudget;
  LoadOptions options;
};

struct LoadedModel {
  ResolvedModel resolved;
  std::shared_ptr<const Checkpoint> checkpoint;
  std::shared_ptr<Backend> backend;
  std::shared_ptr<ModelFamily> family;
  std::unique_ptr<Model> model;  // declared last: destroyed before the backend and family it uses
  double load_seconds = 0.0;
};

// Every failure is an Error that says what is wrong and where (file, tensor, op).
LoadedModel load_model(const LoadRequest& request);

// Throws when `backend` lacks an op the family declares, naming the op and the backend.
void check_backend_ops(const Backend& backend, const ModelFamily& family, const Checkpoint& checkpoint,
                       DType weight_dtype);

}  // namespace vlm::registry
