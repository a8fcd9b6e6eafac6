#include "vlm/nn/layers.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

Linear Linear::load(const WeightLoader& weights, const std::string& prefix, int64_t in, int64_t out, bool bias) {
  Linear l;
  l.in = in;
  l.out = out;
  l.weight = weights.load(prefix + ".weight", Shape{out, in});
  if (bias) l.bias = weights.load(prefix + ".bias", Shape{out});
  return l;
}

void Linear::forward(Backend& backend, const Tensor& x, Tensor& y) const {
  // Callers keep their own shapes ([B, S, heads, head_dim], ...); the matmul sees [rows, features].
  const Tensor x2 = x.reshape(Shape{x.numel() / in, in});
  Tensor y2 = y.reshape(Shape{y.numel() / out, out});
  backend.matmul(x2, weight, bias.defined() ? &bias : nullptr, y2, true);
}

Norm Norm::rms(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps) {
  Norm n;
  n.kind = Kind::Rms;
  n.eps = eps;
  n.weight = weights.load(prefix + ".weight", Shape{dim});
  return n;
}

Norm Norm::layer(const WeightLoader& weights, const std::string& prefix, int64_t dim, float eps, bool bias) {
  Norm n;
  n.kind = Kind::Layer;
  n.eps = eps;
  n.weight = weights.load(prefix + ".weight", Shape{dim});
  if (bias) n.bias = weights.load(prefix + ".bias", Shape{dim});
  return n;
}

void Norm::forward(Backend& backend, const Tensor& x, Tensor& y) const {
  Tensor y2 = y.reshape(x.shape());  // same elements, the caller's view of them
  if (kind == Kind::Rms)
    backend.rms_norm(x, weight, eps, y2);
  else
    backend.layer_norm(x, weight, bias.defined() ? &bias : nullptr, eps, y2);
}

Activation activation_from_name(const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "gelu") return Activation::GeluErf;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  fail("activation '{}' is not supported (silu, gelu, gelu_pytorch_tanh, gelu_new, quick_gelu, relu)", name);
}

}  // namespace vlm
