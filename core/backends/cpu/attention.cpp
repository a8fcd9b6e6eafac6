// Scaled dot-product attention in f32 over the [B, S, H, D] layout, with grouped-query heads, causal
// masking relative to q_offset, sliding windows, KV caches longer than their valid length, key padding
// masks and broadcast additive masks.
//
// Each OpenMP task takes a block of query rows of one head: S = Q K^T on oneDNN (strided views straight
// into the [B, S, H, D] tensors, no copies), a max-subtracted softmax with the masks applied in place,
// then out = P V on oneDNN. oneDNN runs single-threaded inside the parallel region.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "float_convert.hpp"
#include "strided_gemm.hpp"
#include "vector_math.hpp"

namespace vlm::cpu {
namespace {

constexpr std::string_view kOp = "attention";
constexpr int64_t kMaxRows = 64;            // query rows per prefill task
constexpr int64_t kScoreFloats = 256 * 1024;  // a task's score block: 1 MiB
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

struct Geometry {
  int64_t batch, q_len, q_heads, head_dim;
  int64_t capacity, kv_heads, v_dim;
  int64_t kv_len;       // valid keys
  int64_t group;        // query heads per kv head
};

Geometry validate(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const AttentionParams& p) {
  for (auto [name, t] : {std::pair{"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}}) {
    // Keys and values may be a bf16 KV cache (widened block by block); queries and outputs are f32.
    check_tensor(kOp, name, *t, t == &k || t == &v ? std::initializer_list<DType>{DType::F32, DType::BF16}
                                                  : std::initializer_list<DType>{DType::F32});
    check_rank(kOp, name, *t, 4);
  }
  check(k.dtype() == v.dtype(), kOp, "k and v must have one dtype, got {} and {}", dtype_name(k.dtype()),
        dtype_name(v.dtype()));
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
  check(p.window >= 0 && (p.window == 0 || p.causal), kOp, "window {} must be >= 0, and only with causal attention",
        p.window);
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

// One row of scores (already Q.K) becomes probabilities in place: scaled, masked, softmaxed. Only keys
// [first, visible) count (sliding window start, causal limit); entries up to `keys` (the block's width)
// are zeroed so the following P x V product ignores them. A row with nothing to attend to becomes zeros.
void scores_to_probabilities(float* row, int64_t first, int64_t visible, int64_t keys, float scale,
                             const float* additive, const uint8_t* key_mask) {
#pragma omp simd
  for (int64_t j = 0; j < visible; ++j) row[j] *= scale;
  for (int64_t j = 0; j < std::min(first, visible); ++j) row[j] = kMinusInf;
  if (additive) {
#pragma omp simd
    for (int64_t j = 0; j < visible; ++j) row[j] += additive[j];
  }
  if (key_mask)
    for (int64_t j = 0; j < visible; ++j)
      if (!key_mask[j]) row[j] = kMinusInf;
  float max = kMinusInf;
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < visible; ++j) max = std::max(max, row[j]);
  if (max == kMinusInf) {
    std::fill(row, row + keys, 0.0f);
    return;
  }
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < visible; ++j) {
    row[j] = vector_exp(row[j] - max);
    sum += row[j];
  }
  const float inv_sum = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < visible; ++j) row[j] *= inv_sum;
  std::fill(row + visible, row + keys, 0.0f);
}

}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionParams& params) {
  const Geometry g = validate(q, k, v, out, params);
  if (out.numel() == 0) return;
  const uint8_t* key_mask = params.key_mask ? params.key_mask->data<uint8_t>() : nullptr;
  const Tensor* additive = params.additive_mask;

  // A task is one block of rows sharing a kv head. Prefill: up to kMaxRows queries of one head. Decode
  // (one query): the `group` query heads of one kv head, adjacent in memory, so K and V are read once
  // for all of them.
  const bool rows_are_heads = g.q_len == 1;
  // Scores rows have a fixed stride (the KV capacity), so the GEMM primitives are reused as the cache
  // fills; rows per block shrink for long contexts to keep a thread's scores near 1 MiB.
  const int64_t score_stride = g.capacity;
  const int64_t max_rows =
      rows_are_heads ? g.group : std::clamp<int64_t>(kScoreFloats / std::max<int64_t>(score_stride, 1), 1, kMaxRows);
  const int64_t blocks_per_head = rows_are_heads ? 1 : (g.q_len + max_rows - 1) / max_rows;
  const int64_t heads_per_batch = rows_are_heads ? g.kv_heads : g.q_heads;
  const int64_t tasks = g.batch * heads_per_batch * blocks_per_head;
  const int64_t q_row_stride = rows_are_heads ? g.head_dim : g.q_heads * g.head_dim;
  const int64_t out_row_stride = rows_are_heads ? g.v_dim : g.q_heads * g.v_dim;
  // A bf16 cache is widened per task into dense [keys, D] blocks; an f32 one is read in place.
  const bool widen = k.dtype() == DType::BF16;
  const StridedGemm::Layout scores_layout{.lda = q_row_stride, .ldb = widen ? g.head_dim : g.kv_heads * g.head_dim,
                                          .ldc = score_stride, .b_column_major = true};
  const StridedGemm::Layout values_layout{.lda = score_stride, .ldb = widen ? g.v_dim : g.kv_heads * g.v_dim,
                                          .ldc = out_row_stride, .b_column_major = false};
  static StridedGemm gemm;

  // With a single task the region is inactive and oneDNN parallelises the GEMMs itself.
#pragma omp parallel if (tasks > 1)
  {
    thread_local std::vector<float> scores;  // grows only: steady-state calls allocate nothing
    thread_local std::vector<float> wide_keys, wide_values;  // bf16 caches only
    if (scores.size() < size_t(max_rows * score_stride)) scores.resize(size_t(max_rows * score_stride));
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t block = task % blocks_per_head;
      const int64_t head_slot = task / blocks_per_head % heads_per_batch;  // q head, or kv head when decoding
      const int64_t b = task / (blocks_per_head * heads_per_batch);
      const int64_t kv_head = rows_are_heads ? head_slot : head_slot / g.group;
      const int64_t first_query = rows_are_heads ? 0 : block * max_rows;
      const int64_t rows = rows_are_heads ? g.group : std::min(max_rows, g.q_len - first_query);
      const int64_t first_head = rows_are_heads ? kv_head * g.group : head_slot;
      auto query_of = [&](int64_t r) { return rows_are_heads ? int64_t(0) : first_query + r; };
      auto head_of = [&](int64_t r) { return rows_are_heads ? first_head + r : first_head; };
      auto visible_keys = [&](int64_t query) {
        return params.causal ? std::clamp<int64_t>(params.q_offset + query + 1, 0, g.kv_len) : g.kv_len;
      };
      auto first_key = [&](int64_t query) {
        return params.window > 0 ? std::max<int64_t>(0, params.q_offset + query + 1 - params.window) : int64_t(0);
      };

      const float* q_rows = q.data<float>() + ((b * g.q_len + first_query) * g.q_heads + first_head) * g.head_dim;
      float* out_rows = out.data<float>() + ((b * g.q_len + first_query) * g.q_heads + first_head) * g.v_dim;
      // Keys any row of the block sees; later keys are neither scored nor read.
      const int64_t block_keys = visible_keys(query_of(rows - 1));
      if (block_keys == 0) {
        for (int64_t r = 0; r < rows; ++r) std::fill_n(out_rows + r * out_row_stride, g.v_dim, 0.0f);
        continue;
      }
      const float* keys = nullptr;
      const float* values = nullptr;
      if (widen) {
        if (wide_keys.size() < size_t(block_keys * g.head_dim)) wide_keys.resize(size_t(block_keys * g.head_dim));
        if (wide_values.size() < size_t(block_keys * g.v_dim)) wide_values.resize(size_t(block_keys * g.v_dim));
        const auto* k16 = k.data<uint16_t>() + (b * g.capacity * g.kv_heads + kv_head) * g.head_dim;
        const auto* v16 = v.data<uint16_t>() + (b * g.capacity * g.kv_heads + kv_head) * g.v_dim;
        for (int64_t j = 0; j < block_keys; ++j) {
          to_f32(DType::BF16, k16 + j * g.kv_heads * g.head_dim, wide_keys.data() + j * g.head_dim, g.head_dim);
          to_f32(DType::BF16, v16 + j * g.kv_heads * g.v_dim, wide_values.data() + j * g.v_dim, g.v_dim);
        }
        keys = wide_keys.data();
        values = wide_values.data();
      } else {
        keys = k.data<float>() + (b * g.capacity * g.kv_heads + kv_head) * g.head_dim;
        values = v.data<float>() + (b * g.capacity * g.kv_heads + kv_head) * g.v_dim;
      }

      gemm.multiply(scores_layout, rows, block_keys, g.head_dim, q_rows, keys, scores.data());
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t query = query_of(r), head = head_of(r);
        const float* additive_row = nullptr;
        if (additive) {
          const int64_t mb = additive->dim(0) == 1 ? 0 : b, mh = additive->dim(1) == 1 ? 0 : head;
          additive_row = additive->data<float>() + ((mb * additive->dim(1) + mh) * g.q_len + query) * g.kv_len;
        }
        scores_to_probabilities(scores.data() + r * score_stride, first_key(query), visible_keys(query), block_keys,
                                params.scale, additive_row, key_mask ? key_mask + b * g.capacity : nullptr);
      }
      gemm.multiply(values_layout, rows, g.v_dim, block_keys, scores.data(), values, out_rows);
    }
  }
}

}  // namespace vlm::cpu
