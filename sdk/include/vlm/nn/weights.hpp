#pragma once
// Loads named checkpoint tensors onto a backend, checking shapes. On the CPU a weight stays a view of
// the memory-mapped file in its stored dtype; `convert_to` makes an explicit converted copy instead (e.g.
// a bf16 checkpoint upcast to f32 for parity runs). With a QuantizedWeightCache (`--quantize`), the
// matrices of the language model (Linear weights and the LM head, loaded through a language_model()
// loader) are quantised instead; vision towers and connectors keep their stored dtype, because they are
// compute-bound (quantising saves them no time and costs accuracy) and small.
#include <optional>
#include <string>

#include "vlm/backend/backend.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/io/quantized_cache.hpp"

namespace vlm {

class WeightLoader {
 public:
  WeightLoader(const Checkpoint& checkpoint, Backend& backend, std::optional<DType> convert_to = std::nullopt,
               QuantizedWeightCache* quantized = nullptr)
      : checkpoint_(&checkpoint), backend_(&backend), convert_to_(convert_to), quantized_(quantized) {}

  // The same loader for the blocks of a language model: its matrices are quantised when quantisation is on.
  WeightLoader language_model() const {
    WeightLoader lm = *this;
    lm.language_model_ = true;
    return lm;
  }

  Tensor load(const std::string& name, const Shape& expected) const;
  // A [N, K] matrix multiplied as x @ W^T (a Linear weight): quantised when this is a language_model()
  // loader with quantisation on and K is a multiple of 64, else as load().
  Tensor load_matrix(const std::string& name, const Shape& expected) const;
  // The same for a matrix that is a view of another weight (a tied LM head: the embedding table's rows);
  // `name` keys it in the quantised cache.
  Tensor matrix_from(const std::string& name, const Tensor& weight) const;
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
  QuantizedWeightCache* quantized_ = nullptr;
  bool language_model_ = false;

  bool quantizes(const Shape& shape) const { return quantized_ && language_model_ && can_quantize(shape); }
};

}  // namespace vlm
