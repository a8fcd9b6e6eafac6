// Pointwise activations, gated activations (SwiGLU/GeGLU) and the last-dimension softmax, all f32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "parallel.hpp"
#include "vector_math.hpp"

namespace vlm::cpu {
namespace {

constexpr int64_t kChunk = 4096;

// Exactly the formulas of the PyTorch/Hugging Face activations of the same names. Function objects (not
// pointers) so each loop inlines its activation; exp and erf come from vector_math.hpp so loops vectorise.
#pragma omp declare simd
inline float sigmoid(float x) { return 1.0f / (1.0f + vector_exp(-x)); }

struct GeluErf {
  float operator()(float x) const { return 0.5f * x * (1.0f + vector_erf(x * 0.70710678118654752f)); }
};
struct GeluTanh {
  float operator()(float x) const {
    constexpr float kSqrt2OverPi = 0.79788456080286536f;
    const float y = kSqrt2OverPi * (x + 0.044715f * x * x * x);
    const float tanh_y = 1.0f - 2.0f / (vector_exp(2.0f * y) + 1.0f);  // saturates cleanly to +-1
    return 0.5f * x * (1.0f + tanh_y);
  }
};
struct QuickGelu {
  float operator()(float x) const { return x * sigmoid(1.702f * x); }
};
struct Silu {
  float operator()(float x) const { return x * sigmoid(x); }
};
struct Relu {
  float operator()(float x) const { return x < 0.0f ? 0.0f : x; }  // NaN passes through, as in torch
};

// Calls body(fn) with the function object of `kind`, so each loop is compiled once per activation.
template <typename Body>
void with_activation(Activation kind, Body&& body) {
  switch (kind) {
    case Activation::GeluErf: return body(GeluErf{});
    case Activation::GeluTanh: return body(GeluTanh{});
    case Activation::QuickGelu: return body(QuickGelu{});
    case Activation::Silu: return body(Silu{});
    case Activation::Relu: return body(Relu{});
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
#pragma omp simd
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
#pragma omp simd
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
    if (only_minus_inf(max)) {
      std::fill(o, o + d, 0.0f);
      return;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < d; ++i) {
      o[i] = vector_exp(in[i] - max);
      sum += o[i];
    }
    const float inv_sum = 1.0f / sum;
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) o[i] *= inv_sum;
  });
}

}  // namespace vlm::cpu
