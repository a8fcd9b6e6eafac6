#pragma once
#include <algorithm>
#include <initializer_list>
#include <vector>
// The op vocabulary a backend provides and a model declares it needs. A model's required ops are checked
// against the backend at load, so a missing op fails there, by name, never silently at run time.
#include <cstdint>
#include <string_view>

namespace vlm {

enum class Op : uint8_t {
  Matmul,           // x @ W^T (+ bias), W in f32 / bf16 / f16
  Attention,        // scaled dot-product, causal / padding / additive masks, GQA, cross-attention
  RmsNorm,
  LayerNorm,
  Activation,       // GELU (erf, tanh), QuickGELU, SiLU, ReLU
  GatedActivation,  // act(gate) * up: SwiGLU, GeGLU
  Softmax,
  Rotary,           // rotate-half rotary with per-position cos/sin (1-D text, 2-D vision, 3-section M-RoPE)
  Embedding,
  Add,
  Mul,
  Scale,
  Concat,
  Slice,
  Permute,
  Patchify,         // image -> non-overlapping patches, so a strided conv becomes a matmul
  Convert,          // dtype conversion
  kCount
};

constexpr std::string_view op_name(Op op) {
  constexpr std::string_view names[] = {
      "matmul", "attention", "rms_norm", "layer_norm", "activation", "gated_activation", "softmax",
      "rotary", "embedding", "add", "mul", "scale", "concat", "slice", "permute", "patchify", "convert"};
  static_assert(sizeof(names) / sizeof(names[0]) == size_t(Op::kCount));
  return names[size_t(op)];
}

enum class Activation : uint8_t { GeluErf, GeluTanh, QuickGelu, Silu, Relu };

// Adds `more` to `ops`, each once: blocks list the ops they call, families take the union.
inline void add_ops(std::vector<Op>& ops, std::initializer_list<Op> more) {
  for (const Op op : more)
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) ops.push_back(op);
}

}  // namespace vlm
