// Scaled dot-product attention in f32 over the [B, S, H, D] layout, with grouped-query heads, causal
// masking relative to q_offset, KV caches longer than their valid length, key padding masks and
// broadcast additive masks.
//
// Each OpenMP task is one (batch, query head, block of query rows). Per query row the scores of the
// visible keys go into a per-thread buffer, a max-subtracted softmax normalises them, and the output is
// the probability-weighted sum of V rows. Dot products and the V accumulation run four keys at a time so
// the compiler keeps four independent vector accumulators (no single dependency chain).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "checks.hpp"
#include "cpu_ops.hpp"

namespace vlm::cpu {
namespace {

constexpr std::string_view kOp = "attention";
constexpr int64_t kQueryBlock = 16;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

struct Geometry {
  int64_t batch, q_len, q_heads, head_dim;
  int64_t capacity, kv_heads, v_dim;
  int64_t kv_len;       // valid keys
  int64_t group;        // query heads per kv head
};

Geometry validate(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const AttentionParams& p) {
  for (auto [name, t] : {std::pair{"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}}) {
    check_tensor(kOp, name, *t, {DType::F32});
    check_rank(kOp, name, *t, 4);
  }
  Geometry g{q.dim(0), q.dim(1), q.dim(2), q.dim(3), k.dim(1), k.dim(2), v.dim(3), 0, 0};
  const auto shapes = [&] {
    return fmt::format("{}, {}, {}", describe_tensor("q", q), describe_tensor("k", k), describe_tensor("v", v));
  };
  check(k.dim(0) == g.batch && k.dim(3) == g.head_dim, kOp, "k must be [B, S, Hkv, D] matching q: {}", shapes());
  check(v.dim(0) == g.batch && v.dim(1) == g.capacity && v.dim(2) == g.kv_heads, kOp,
        "v must be [B, S, Hkv, Dv] matching k: {}", shapes());
  check(g.kv_heads > 0 && g.q_heads % g.kv_heads == 0, kOp,
        "query heads must be a multiple of key/value heads: {}", shapes());
  g.group = g.q_heads / g.kv_heads;
  check(out.dim(0) == g.batch && out.dim(1) == g.q_len && out.dim(2) == g.q_heads && out.dim(3) == g.v_dim, kOp,
        "{} must be [{}, {}, {}, {}] for {}", describe_tensor("out", out), g.batch, g.q_len, g.q_heads, g.v_dim,
        shapes());
  check(out.raw() != q.raw() && out.raw() != k.raw() && out.raw() != v.raw(), kOp,
        "out must not alias q, k or v");
  check(p.kv_len >= -1 && p.kv_len <= g.capacity, kOp, "kv_len {} is outside [0, {}] (-1 = all)", p.kv_len,
        g.capacity);
  g.kv_len = p.kv_len < 0 ? g.capacity : p.kv_len;
  check(p.q_offset >= 0, kOp, "q_offset {} is negative", p.q_offset);
  if (p.key_mask) {
    check_tensor(kOp, "key_mask", *p.key_mask, {DType::U8});
    check(p.key_mask->rank() == 2 && p.key_mask->dim(0) == g.batch && p.key_mask->dim(1) == g.capacity, kOp,
          "{} must be [{}, {}]", describe_tensor("key_mask", *p.key_mask), g.batch, g.capacity);
  }
  if (const Tensor* m = p.additive_mask) {
    check_tensor(kOp, "additive_mask", *m, {DType::F32});
    check(m->rank() == 4 && (m->dim(0) == g.batch || m->dim(0) == 1) &&
              (m->dim(1) == g.q_heads || m->dim(1) == 1) && m->dim(2) == g.q_len && m->dim(3) == g.kv_len,
          kOp, "{} must be [{} or 1, {} or 1, {}, {}]", describe_tensor("additive_mask", *m), g.batch, g.q_heads,
          g.q_len, g.kv_len);
  }
  return g;
}

// scores[j] = scale * dot(q, key j) for j in [0, count); keys are `stride` floats apart.
void dot_keys(const float* q, const float* keys, int64_t stride, int64_t dim, int64_t count, float scale,
              float* scores) {
  int64_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const float* k0 = keys + j * stride;
    const float* k1 = k0 + stride;
    const float* k2 = k1 + stride;
    const float* k3 = k2 + stride;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t d = 0; d < dim; ++d) {
      s0 += q[d] * k0[d];
      s1 += q[d] * k1[d];
      s2 += q[d] * k2[d];
      s3 += q[d] * k3[d];
    }
    scores[j] = s0 * scale;
    scores[j + 1] = s1 * scale;
    scores[j + 2] = s2 * scale;
    scores[j + 3] = s3 * scale;
  }
  for (; j < count; ++j) {
    const float* kj = keys + j * stride;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t d = 0; d < dim; ++d) s += q[d] * kj[d];
    scores[j] = s * scale;
  }
}

// out = sum_j weights[j] * value j, for j in [0, count); values are `stride` floats apart.
void weighted_values(const float* weights, const float* values, int64_t stride, int64_t dim, int64_t count,
                     float* out) {
  std::fill(out, out + dim, 0.0f);
  int64_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const float w0 = weights[j], w1 = weights[j + 1], w2 = weights[j + 2], w3 = weights[j + 3];
    const float* v0 = values + j * stride;
    const float* v1 = v0 + stride;
    const float* v2 = v1 + stride;
    const float* v3 = v2 + stride;
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) out[d] += w0 * v0[d] + w1 * v1[d] + w2 * v2[d] + w3 * v3[d];
  }
  for (; j < count; ++j) {
    const float w = weights[j];
    const float* vj = values + j * stride;
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) out[d] += w * vj[d];
  }
}

}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionParams& params) {
  const Geometry g = validate(q, k, v, out, params);
  if (out.numel() == 0) return;
  const uint8_t* key_mask = params.key_mask ? params.key_mask->data<uint8_t>() : nullptr;
  const Tensor* additive = params.additive_mask;
  const int64_t q_blocks = (g.q_len + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = g.batch * g.q_heads * q_blocks;

  // Causal rows differ in cost, hence dynamic scheduling.
#pragma omp parallel if (tasks > 1 && g.q_len * g.kv_len * g.head_dim > 4096)
  {
    // Per-thread buffers that only grow: steady-state calls allocate nothing.
    thread_local std::vector<float> scores, accumulated;
    if (scores.size() < size_t(g.kv_len)) scores.resize(size_t(g.kv_len));
    if (accumulated.size() < size_t(g.v_dim)) accumulated.resize(size_t(g.v_dim));
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t block = task % q_blocks;
      const int64_t head = task / q_blocks % g.q_heads;
      const int64_t b = task / (q_blocks * g.q_heads);
      const int64_t kv_head = head / g.group;
      const float* keys = k.data<float>() + (b * g.capacity * g.kv_heads + kv_head) * g.head_dim;
      const float* values = v.data<float>() + (b * g.capacity * g.kv_heads + kv_head) * g.v_dim;
      const int64_t key_stride = g.kv_heads * g.head_dim, value_stride = g.kv_heads * g.v_dim;
      const uint8_t* row_key_mask = key_mask ? key_mask + b * g.capacity : nullptr;
      const float* head_additive = nullptr;
      if (additive) {
        const int64_t mb = additive->dim(0) == 1 ? 0 : b, mh = additive->dim(1) == 1 ? 0 : head;
        head_additive = additive->data<float>() + (mb * additive->dim(1) + mh) * g.q_len * g.kv_len;
      }

      const int64_t first = block * kQueryBlock, last = std::min(g.q_len, first + kQueryBlock);
      for (int64_t i = first; i < last; ++i) {
        const float* query = q.data<float>() + ((b * g.q_len + i) * g.q_heads + head) * g.head_dim;
        float* o = out.data<float>() + ((b * g.q_len + i) * g.q_heads + head) * g.v_dim;
        // Keys past the causal limit are never scored (not just masked): decode rows stay cheap.
        const int64_t visible =
            params.causal ? std::clamp<int64_t>(params.q_offset + i + 1, 0, g.kv_len) : g.kv_len;
        dot_keys(query, keys, key_stride, g.head_dim, visible, params.scale, scores.data());
        if (head_additive) {
          const float* mask_row = head_additive + i * g.kv_len;
#pragma omp simd
          for (int64_t j = 0; j < visible; ++j) scores[size_t(j)] += mask_row[j];
        }
        if (row_key_mask)
          for (int64_t j = 0; j < visible; ++j)
            if (!row_key_mask[j]) scores[size_t(j)] = kMinusInf;

        float max = kMinusInf;
        for (int64_t j = 0; j < visible; ++j) max = std::max(max, scores[size_t(j)]);
        if (max == kMinusInf) {  // nothing to attend to (all masked, or no visible key): zeros by contract
          std::fill(o, o + g.v_dim, 0.0f);
          continue;
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < visible; ++j) {
          scores[size_t(j)] = std::exp(scores[size_t(j)] - max);
          sum += scores[size_t(j)];
        }
        weighted_values(scores.data(), values, value_stride, g.v_dim, visible, accumulated.data());
        const float inv_sum = 1.0f / sum;
#pragma omp simd
        for (int64_t d = 0; d < g.v_dim; ++d) o[d] = accumulated[size_t(d)] * inv_sum;
      }
    }
  }
}

}  // namespace vlm::cpu
