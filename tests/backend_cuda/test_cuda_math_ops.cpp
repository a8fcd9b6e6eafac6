// Arithmetic ops on the GPU against naive host references: matmul, attention, normalisation, softmax,
// activations, rotary. Skipped (with a WARN) where no usable CUDA device exists.
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "cuda_test_support.hpp"

namespace {

using vlm::DType;
using vlm::Shape;
using vlm::Tensor;
using vlm::test::cuda_backend_or_skip;
using vlm::test::device_tensor;
using vlm::test::host_values;
using vlm::test::random_values;
using vlm::test::require_close;
using vlm::test::rounded_through;

// out[r, n] = sum_k x[r, k] * w(n, k) + bias[n], with w stored [N, K] (transposed) or [K, N].
std::vector<float> reference_matmul(const std::vector<float>& x, const std::vector<float>& w,
                                    const std::vector<float>* bias, int64_t rows, int64_t k, int64_t n,
                                    bool w_transposed) {
  std::vector<float> out(size_t(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double sum = bias ? (*bias)[size_t(c)] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        sum += double(x[size_t(r * k + i)]) * w[size_t(w_transposed ? c * k + i : i * n + c)];
      out[size_t(r * n + c)] = float(sum);
    }
  return out;
}

struct AttentionCase {
  int64_t batch, q_len, q_heads, kv_heads, head_dim, v_head_dim, capacity;
  vlm::AttentionParams params;
  std::vector<uint8_t> key_mask;     // [batch, capacity] or empty
  std::vector<float> additive_mask;  // shaped mask_shape or empty
  Shape mask_shape;
};

std::vector<float> reference_attention(const AttentionCase& c, const std::vector<float>& q,
                                       const std::vector<float>& k, const std::vector<float>& v) {
  const int64_t kv_len = c.params.kv_len < 0 ? c.capacity : c.params.kv_len;
  std::vector<float> out(size_t(c.batch * c.q_len * c.q_heads * c.v_head_dim), 0.0f);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.q_len; ++i)
      for (int64_t h = 0; h < c.q_heads; ++h) {
        const int64_t kv_head = h / (c.q_heads / c.kv_heads);
        std::vector<double> scores(size_t(kv_len), -INFINITY);
        double max_score = -INFINITY;
        for (int64_t j = 0; j < kv_len; ++j) {
          if (c.params.causal && j > c.params.q_offset + i) continue;
          if (c.params.window > 0 && j <= c.params.q_offset + i - c.params.window) continue;
          if (!c.key_mask.empty() && !c.key_mask[size_t(b * c.capacity + j)]) continue;
          double dot = 0;
          for (int64_t d = 0; d < c.head_dim; ++d)
            dot += double(q[size_t(((b * c.q_len + i) * c.q_heads + h) * c.head_dim + d)]) *
                   k[size_t(((b * c.capacity + j) * c.kv_heads + kv_head) * c.head_dim + d)];
          double score = dot * c.params.scale;
          if (!c.additive_mask.empty()) {
            const int64_t mb = c.mask_shape[0] == 1 ? 0 : b, mh = c.mask_shape[1] == 1 ? 0 : h;
            score += c.additive_mask[size_t(((mb * c.mask_shape[1] + mh) * c.q_len + i) * kv_len + j)];
          }
          scores[size_t(j)] = score;
          max_score = std::max(max_score, score);
        }
        if (max_score == -INFINITY) continue;  // fully masked: zeros
        double total = 0;
        for (double& s : scores) total += (s = std::exp(s - max_score));
        for (int64_t d = 0; d < c.v_head_dim; ++d) {
          double sum = 0;
          for (int64_t j = 0; j < kv_len; ++j)
            sum += scores[size_t(j)] * v[size_t(((b * c.capacity + j) * c.kv_heads + kv_head) * c.v_head_dim + d)];
          out[size_t(((b * c.q_len + i) * c.q_heads + h) * c.v_head_dim + d)] = float(sum / total);
        }
      }
  return out;
}

void check_attention(AttentionCase c) {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto q = random_values(size_t(c.batch * c.q_len * c.q_heads * c.head_dim), 1, -2, 2);
  const auto k = random_values(size_t(c.batch * c.capacity * c.kv_heads * c.head_dim), 2, -2, 2);
  const auto v = random_values(size_t(c.batch * c.capacity * c.kv_heads * c.v_head_dim), 3);
  const Tensor dq = device_tensor(*backend, q, {c.batch, c.q_len, c.q_heads, c.head_dim});
  const Tensor dk = device_tensor(*backend, k, {c.batch, c.capacity, c.kv_heads, c.head_dim});
  const Tensor dv = device_tensor(*backend, v, {c.batch, c.capacity, c.kv_heads, c.v_head_dim});
  Tensor out = backend->empty({c.batch, c.q_len, c.q_heads, c.v_head_dim}, DType::F32);
  Tensor key_mask, additive_mask;
  vlm::AttentionParams params = c.params;
  if (!c.key_mask.empty()) {
    key_mask = backend->upload(Tensor::from(std::span<const uint8_t>(c.key_mask), Shape{c.batch, c.capacity}));
    params.key_mask = &key_mask;
  }
  if (!c.additive_mask.empty()) {
    additive_mask = device_tensor(*backend, c.additive_mask, c.mask_shape);
    params.additive_mask = &additive_mask;
  }
  backend->attention(dq, dk, dv, out, params);
  require_close(host_values(*backend, out), reference_attention(c, q, k, v), 1e-5f, 1e-4f);
}

float reference_activation(vlm::Activation kind, float x) {
  switch (kind) {
    case vlm::Activation::GeluErf: return float(0.5 * x * (1 + std::erf(x / std::sqrt(2.0))));
    case vlm::Activation::GeluTanh:
      return float(0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * double(x) * x * x))));
    case vlm::Activation::QuickGelu: return float(x / (1 + std::exp(-1.702 * x)));
    case vlm::Activation::Silu: return float(x / (1 + std::exp(-double(x))));
    case vlm::Activation::Relu: return x > 0 ? x : 0;
  }
  return x;
}

}  // namespace

TEST_CASE("cuda matmul: f32 weights, both layouts, bias, leading dims", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const int64_t rows = 6, k = 37, n = 19;
  const auto x = random_values(size_t(rows * k), 10);
  const auto w = random_values(size_t(n * k), 11);
  const auto bias = random_values(size_t(n), 12);
  const Tensor dx = device_tensor(*backend, x, {2, 3, k});
  const Tensor dbias = device_tensor(*backend, bias, {n});
  Tensor out = backend->empty({2, 3, n}, DType::F32);
  for (const bool transposed : {true, false}) {
    INFO("w_transposed " << transposed);
    const Tensor dw = device_tensor(*backend, w, transposed ? Shape{n, k} : Shape{k, n});
    backend->matmul(dx, dw, &dbias, out, transposed);
    require_close(host_values(*backend, out), reference_matmul(x, w, &bias, rows, k, n, transposed), 1e-5f, 1e-5f);
    backend->matmul(dx, dw, nullptr, out, transposed);
    require_close(host_values(*backend, out), reference_matmul(x, w, nullptr, rows, k, n, transposed), 1e-5f, 1e-5f);
  }
}

TEST_CASE("cuda matmul: bf16 and f16 weights with f32 or half activations", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const int64_t rows = 5, k = 64, n = 33;
  const auto x = random_values(size_t(rows * k), 20);
  const auto w = random_values(size_t(n * k), 21);
  const auto bias = random_values(size_t(n), 22);
  for (const DType dtype : {DType::BF16, DType::F16}) {
    INFO("weight dtype " << vlm::dtype_name(dtype));
    // The backend runs the GEMM in the weight's dtype with f32 accumulation: the reference rounds its
    // inputs the same way and accumulates exactly, so only summation order differs.
    const auto x_rounded = rounded_through(x, dtype), w_rounded = rounded_through(w, dtype);
    const auto bias_rounded = rounded_through(bias, dtype);
    const auto expected = reference_matmul(x_rounded, w_rounded, &bias_rounded, rows, k, n, true);
    const Tensor dw = device_tensor(*backend, w, {n, k}, dtype);
    const Tensor dbias = device_tensor(*backend, bias, {n}, dtype);
    Tensor out = backend->empty({rows, n}, DType::F32);
    backend->matmul(device_tensor(*backend, x, {rows, k}), dw, &dbias, out, true);
    require_close(host_values(*backend, out), expected, 1e-4f, 1e-4f);
    backend->matmul(device_tensor(*backend, x, {rows, k}, dtype), dw, &dbias, out, true);
    require_close(host_values(*backend, out), expected, 1e-4f, 1e-4f);
  }
}

TEST_CASE("cuda attention: grouped heads, causal decode with q_offset and kv_len < capacity", "[cuda][ops]") {
  AttentionCase c{.batch = 2, .q_len = 2, .q_heads = 4, .kv_heads = 2, .head_dim = 16, .v_head_dim = 16,
                  .capacity = 8, .params = {}, .key_mask = {}, .additive_mask = {}, .mask_shape = {}};
  c.params.scale = 0.25f;
  c.params.causal = true;
  c.params.q_offset = 3;
  c.params.kv_len = 5;
  check_attention(c);
}

TEST_CASE("cuda attention: many key tiles, causal prefill", "[cuda][ops]") {
  AttentionCase c{.batch = 1, .q_len = 5, .q_heads = 2, .kv_heads = 1, .head_dim = 32, .v_head_dim = 32,
                  .capacity = 300, .params = {}, .key_mask = {}, .additive_mask = {}, .mask_shape = {}};
  c.params.scale = 1.0f / std::sqrt(32.0f);
  c.params.causal = true;
  c.params.q_offset = 255;  // queries see 256..260 keys: across the 128-key tiles
  c.params.kv_len = 260;
  check_attention(c);
}

TEST_CASE("cuda attention: sliding window across key tiles", "[cuda][ops]") {
  AttentionCase c{.batch = 1, .q_len = 6, .q_heads = 2, .kv_heads = 1, .head_dim = 16, .v_head_dim = 16,
                  .capacity = 300, .params = {}, .key_mask = {}, .additive_mask = {}, .mask_shape = {}};
  c.params.scale = 0.25f;
  c.params.causal = true;
  c.params.q_offset = 250;  // windows of 140 keys start inside the first tile and end in the third
  c.params.kv_len = 256;
  c.params.window = 140;
  check_attention(c);
}

TEST_CASE("cuda attention: key mask, broadcast additive mask, fully masked rows give zeros", "[cuda][ops]") {
  AttentionCase c{.batch = 2, .q_len = 3, .q_heads = 2, .kv_heads = 2, .head_dim = 8, .v_head_dim = 12,
                  .capacity = 140, .params = {}, .key_mask = {}, .additive_mask = {}, .mask_shape = {1, 2, 3, 140}};
  c.params.scale = 0.5f;
  c.key_mask.assign(size_t(2 * 140), 1);
  for (int64_t j = 0; j < 140; ++j) c.key_mask[size_t(140 + j)] = 0;  // batch 1: every key is padding
  c.key_mask[5] = 0;
  c.additive_mask = random_values(size_t(2 * 3 * 140), 30, -3, 0);
  for (int64_t j = 0; j < 140; ++j) c.additive_mask[size_t(140 + j)] = -INFINITY;  // head 0, query 1: all masked
  c.additive_mask[7] = -INFINITY;
  check_attention(c);
}

TEST_CASE("cuda rms_norm and layer_norm: f32 activations, half weights", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  for (const int64_t cols : {int64_t(70), int64_t(600)}) {  // fewer and more columns than block threads
    INFO("cols " << cols);
    const int64_t rows = 4;
    const float eps = 1e-5f;
    const auto x = random_values(size_t(rows * cols), 40, -3, 3);
    const auto weight = rounded_through(random_values(size_t(cols), 41), DType::BF16);
    const auto bias = random_values(size_t(cols), 42);
    const Tensor dx = device_tensor(*backend, x, {2, 2, cols});
    const Tensor dweight = device_tensor(*backend, weight, {cols}, DType::BF16);
    const Tensor dbias = device_tensor(*backend, bias, {cols});
    std::vector<float> rms(x.size()), layer(x.size()), layer_no_bias(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0, sum_squares = 0;
      for (int64_t c = 0; c < cols; ++c) sum += x[size_t(r * cols + c)];
      const double mean = sum / double(cols);
      double variance = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double v = x[size_t(r * cols + c)];
        sum_squares += v * v;
        variance += (v - mean) * (v - mean);
      }
      const double inv_rms = 1 / std::sqrt(sum_squares / double(cols) + eps);
      const double inv_std = 1 / std::sqrt(variance / double(cols) + eps);
      for (int64_t c = 0; c < cols; ++c) {
        const size_t i = size_t(r * cols + c);
        rms[i] = float(x[i] * inv_rms * weight[size_t(c)]);
        layer_no_bias[i] = float((x[i] - mean) * inv_std * weight[size_t(c)]);
        layer[i] = layer_no_bias[i] + bias[size_t(c)];
      }
    }
    Tensor out = backend->empty({2, 2, cols}, DType::F32);
    backend->rms_norm(dx, dweight, eps, out);
    require_close(host_values(*backend, out), rms, 1e-5f, 1e-4f);
    backend->layer_norm(dx, dweight, &dbias, eps, out);
    require_close(host_values(*backend, out), layer, 1e-5f, 1e-4f);
    backend->layer_norm(dx, dweight, nullptr, eps, out);
    require_close(host_values(*backend, out), layer_no_bias, 1e-5f, 1e-4f);
  }
}

TEST_CASE("cuda softmax: over the last dim, in place, masked rows", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const int64_t rows = 3, cols = 300;
  auto x = random_values(size_t(rows * cols), 50, -5, 5);
  x[0] = -INFINITY;
  std::vector<float> expected(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double max_value = -INFINITY, total = 0;
    for (int64_t c = 0; c < cols; ++c) max_value = std::max(max_value, double(x[size_t(r * cols + c)]));
    for (int64_t c = 0; c < cols; ++c) total += std::exp(x[size_t(r * cols + c)] - max_value);
    for (int64_t c = 0; c < cols; ++c)
      expected[size_t(r * cols + c)] = float(std::exp(x[size_t(r * cols + c)] - max_value) / total);
  }
  Tensor t = device_tensor(*backend, x, {rows, cols});
  backend->softmax(t, t);
  require_close(host_values(*backend, t), expected, 1e-7f, 1e-4f);
  Tensor masked = device_tensor(*backend, std::vector<float>(4, -INFINITY), {1, 4});
  backend->softmax(masked, masked);
  require_close(host_values(*backend, masked), std::vector<float>(4, 0.0f), 0, 0);
}

TEST_CASE("cuda activation and gated_activation: every kind, in place", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto x = random_values(1000, 60, -6, 6);
  const auto up = random_values(1000, 61);
  for (const auto kind : {vlm::Activation::GeluErf, vlm::Activation::GeluTanh, vlm::Activation::QuickGelu,
                          vlm::Activation::Silu, vlm::Activation::Relu}) {
    INFO("activation " << int(kind));
    std::vector<float> expected(x.size()), expected_gated(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      expected[i] = reference_activation(kind, x[i]);
      expected_gated[i] = expected[i] * up[i];
    }
    Tensor t = device_tensor(*backend, x, {10, 100});
    backend->activation(kind, t, t);
    require_close(host_values(*backend, t), expected, 1e-6f, 1e-5f);
    Tensor gate = device_tensor(*backend, x, {10, 100});
    backend->gated_activation(kind, gate, device_tensor(*backend, up, {10, 100}), gate);
    require_close(host_values(*backend, gate), expected_gated, 1e-6f, 1e-5f);
  }
}

TEST_CASE("cuda rotary: rotate_half on the first channels, per-batch or shared tables, in place", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const int64_t B = 2, S = 3, H = 2, D = 10, R = 6;
  const auto x = random_values(size_t(B * S * H * D), 70);
  for (const int64_t table_batch : {int64_t(1), B}) {
    INFO("cos/sin batch " << table_batch);
    const auto cos = random_values(size_t(table_batch * S * R), 71), sin = random_values(size_t(table_batch * S * R), 72);
    std::vector<float> expected(x.size());
    for (int64_t b = 0; b < B; ++b)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d) {
            const size_t i = size_t(((b * S + s) * H + h) * D + d);
            if (d >= R) {
              expected[i] = x[i];
              continue;
            }
            const size_t table = size_t(((table_batch == 1 ? 0 : b) * S + s) * R + d);
            const float rotated = d < R / 2 ? -x[i + R / 2] : x[i - R / 2];
            expected[i] = x[i] * cos[table] + rotated * sin[table];
          }
    Tensor t = device_tensor(*backend, x, {B, S, H, D});
    backend->rotary(t, device_tensor(*backend, cos, {table_batch, S, R}), device_tensor(*backend, sin, {table_batch, S, R}),
                    t);
    require_close(host_values(*backend, t), expected, 1e-6f, 1e-5f);
  }
}
