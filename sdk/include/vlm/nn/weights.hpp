#pragma once
// Loads named checkpoint tensors onto a backend, checking shapes. On the CPU a weight stays a view of
// the memory-mapped file in its stored dtype; `convert_to` makes an explicit converted copy instead (e.g.
// a bf16 checkpoint upcast to f32 for parity runs).
#include <optional>
#include <string>

#include "vlm/backend/backend.hpp"
#include "vlm/io/checkpoint.hpp"

namespace vlm {

class WeightLoader {
 public:
  WeightLoader(const Checkpoint& checkpoint, Backend& backend, std::optional<DType> convert_to = std::nullopt)
      : checkpoint_(&checkpoint), backend_(&backend), convert_to_(convert_to) {}

  Tensor load(const std::string& name, const Shape& expected) const;
  // Null tensor (defined() false) when absent.
  Tensor load_optional(const std::string& name, const Shape& expected) const;
  // An f32 copy whatever the stored dtype: small parameters that enter activations directly (learned
  // queries, class and position embeddings), which the f32-only kernels (norms, adds) consume.
  Tensor load_f32(const std::string& name, const Shape& expected) const;
  // A one-element tensor's value (gates read once at load).
  float scalar(const std::string& name) const;
  const Checkpoint& checkpoint() const { return *checkpoint_; }
  Backend& backend() const { return *backend_; }

 private:
  const Checkpoint* checkpoint_;
  Backend* backend_;
  std::optional<DType> convert_to_;
};

}  // namespace vlm
