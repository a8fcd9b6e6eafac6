// Pointwise activations, gated activations (SwiGLU/GeGLU) and the last-dimension softmax, all f32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "parallel.hpp"

namespace vlm::cpu {
namespace {

constexpr int64_t kChunk = 4096;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Exactly the formulas of the PyTorch/Hugging Face activations of the same names.
float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286536f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}
float quick_gelu(float x) { return x * sigmoid(1.702f * x); }
float silu(float x) { return x * sigmoid(x); }
float relu(float x) { return x > 0.0f ? x : 0.0f; }

// Calls body(fn) with the scalar function of `kind`, so each loop is compiled once per activation.
template <typename Body>
void with_activation(Activation kind, Body&& body) {
  switch (kind) {
    case Activation::GeluErf: return body(gelu_erf);
    case Activation::GeluTanh: return body(gelu_tanh);
    case Activation::QuickGelu: return body(quick_gelu);
    case Activation::Silu: return body(silu);
    case Activation::Relu: return body(relu);
  }
  fail("activation: unknown activation kind {}", int(kind));
}

}  // namespace

void activation(Activation kind, const Tensor& x, Tensor& out) {
  constexpr std::string_view op = "activation";
  check_tensor(op, "x", x, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check_same_shape(op, "x", x, "out", out);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  with_activation(kind, [&](auto fn) {
    parallel_chunks(x.numel(), kChunk, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = fn(in[i]);
    });
  });
}

void gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out) {
  constexpr std::string_view op = "gated_activation";
  check_tensor(op, "gate", gate, {DType::F32});
  check_tensor(op, "up", up, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check_same_shape(op, "gate", gate, "up", up);
  check_same_shape(op, "gate", gate, "out", out);
  const float* g = gate.data<float>();
  const float* u = up.data<float>();
  float* o = out.data<float>();
  with_activation(kind, [&](auto fn) {
    parallel_chunks(gate.numel(), kChunk, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = fn(g[i]) * u[i];
    });
  });
}

void softmax(const Tensor& x, Tensor& out) {
  constexpr std::string_view op = "softmax";
  check_tensor(op, "x", x, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check(x.rank() >= 1, op, "{} needs at least one dimension", describe_tensor("x", x));
  check_same_shape(op, "x", x, "out", out);
  const int64_t d = x.dim(-1);
  if (x.numel() == 0) return;
  parallel_for(x.numel() / d, d * 4, [&](int64_t row) {
    const float* in = x.data<float>() + row * d;
    float* o = out.data<float>() + row * d;
    float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
    for (int64_t i = 0; i < d; ++i) max = std::max(max, in[i]);
    // A row of -inf (everything masked) has no distribution: zeros, as attention does.
    if (max == -std::numeric_limits<float>::infinity()) {
      std::fill(o, o + d, 0.0f);
      return;
    }
    float sum = 0.0f;
    for (int64_t i = 0; i < d; ++i) {
      o[i] = std::exp(in[i] - max);
      sum += o[i];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) o[i] *= inv_sum;
  });
}

}  // namespace vlm::cpu
