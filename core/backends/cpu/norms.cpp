// RMSNorm and LayerNorm over the last dimension, computed in f32 like Hugging Face (normalise in f32, then
// multiply by the weight). Weights and biases may be stored as f32, bf16 or f16.
#include <cmath>
#include <optional>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "float_convert.hpp"
#include "parallel.hpp"

namespace vlm::cpu {
namespace {

// Shared validation; returns the channel count.
int64_t check_norm_args(std::string_view op, const Tensor& x, const Tensor& weight, const Tensor* bias,
                        const Tensor& out) {
  check_tensor(op, "x", x, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check(x.rank() >= 1, op, "{} needs at least one dimension", describe_tensor("x", x));
  check_same_shape(op, "x", x, "out", out);
  const int64_t channels = x.dim(-1);
  check_channel_weight(op, "weight", weight, channels);
  if (bias) check_channel_weight(op, "bias", *bias, channels);
  return channels;
}

}  // namespace

void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) {
  const int64_t d = check_norm_args("rms_norm", x, weight, nullptr, out);
  if (x.numel() == 0) return;
  const F32View w(weight);
  const float* wp = w.data();
  parallel_for(x.numel() / d, d, [&](int64_t row) {
    const float* in = x.data<float>() + row * d;
    float* o = out.data<float>() + row * d;
    float sum_squares = 0.0f;
#pragma omp simd reduction(+ : sum_squares)
    for (int64_t i = 0; i < d; ++i) sum_squares += in[i] * in[i];
    const float inv_rms = 1.0f / std::sqrt(sum_squares / float(d) + eps);
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) o[i] = wp[i] * (in[i] * inv_rms);
  });
}

void layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps, Tensor& out) {
  const int64_t d = check_norm_args("layer_norm", x, weight, bias, out);
  if (x.numel() == 0) return;
  const F32View w(weight);
  std::optional<F32View> b;
  if (bias) b.emplace(*bias);
  const float* wp = w.data();
  const float* bp = b ? b->data() : nullptr;
  parallel_for(x.numel() / d, d, [&](int64_t row) {
    const float* in = x.data<float>() + row * d;
    float* o = out.data<float>() + row * d;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < d; ++i) sum += in[i];
    const float mean = sum / float(d);
    // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
    float sum_sq_dev = 0.0f;
#pragma omp simd reduction(+ : sum_sq_dev)
    for (int64_t i = 0; i < d; ++i) sum_sq_dev += (in[i] - mean) * (in[i] - mean);
    const float inv_std = 1.0f / std::sqrt(sum_sq_dev / float(d) + eps);
    if (bp) {
#pragma omp simd
      for (int64_t i = 0; i < d; ++i) o[i] = (in[i] - mean) * inv_std * wp[i] + bp[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < d; ++i) o[i] = (in[i] - mean) * inv_std * wp[i];
    }
  });
}

}  // namespace vlm::cpu
