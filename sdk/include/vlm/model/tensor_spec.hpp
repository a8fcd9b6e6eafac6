#pragma once
// What a family expects a checkpoint to hold. One declaration serves two purposes: validating a
// checkpoint at load, and writing a random-weight checkpoint of any size (`vlm synth`).
#include <string>
#include <string_view>
#include <vector>

#include "vlm/tensor/tensor.hpp"

namespace vlm {

// How `vlm synth` fills a tensor; chosen so that nothing in a random model is a no-op.
enum class Init : uint8_t {
  Auto,     // from the name: *norm*/ln weight -> Norm, bias -> Bias, 2-D+ -> FanIn, else Bias
  FanIn,    // N(0, 1/fan_in), fan_in = product of all dims but the first
  Norm,     // 1 + N(0, 0.1)
  Bias,     // N(0, 0.1)
  Gate,     // N(0, 0.5)  (tanh gates, class embeddings)
  Zeros,
  Ones,
};

struct TensorSpec {
  std::string name;
  Shape shape;
  bool optional = false;  // e.g. lm_head.weight when embeddings are tied
  Init init = Init::Auto;
};

// Appends `spec` for each name in a Linear: "<prefix>.weight" [out, in] (+ "<prefix>.bias" [out]); with
// separator "_", nn.MultiheadAttention's "<prefix>_weight" / "<prefix>_bias".
void add_linear(std::vector<TensorSpec>& specs, const std::string& prefix, int64_t in, int64_t out,
                bool bias, std::string_view separator = ".");
// "<prefix>.weight" [dim] (+ "<prefix>.bias" [dim] for LayerNorm).
void add_norm(std::vector<TensorSpec>& specs, const std::string& prefix, int64_t dim, bool bias);

}  // namespace vlm
