// Scaled dot-product attention in f32 over the [B, S, H, D] layout, with grouped-query heads, causal
// masking relative to q_offset, sliding windows, KV caches longer than their valid length, key padding
// masks and broadcast additive masks.
//
// Each OpenMP task takes a block of query rows of one head and walks the keys in blocks (online softmax,
// as in FlashAttention): S = Q K^T for the block on oneDNN (strided views straight into the [B, S, H, D]
// tensors), masks applied in place, running row maxima and sums rescale an f32 accumulator, and P V is
// added to it on oneDNN. No task ever holds more than kKeyBlock scores per row, whatever the sequence
// length; key blocks past the last row's causal limit or before the first row's window are never read.
// oneDNN runs single-threaded inside the parallel region.
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
constexpr int64_t kMaxRows = 64;     // query rows per prefill task
constexpr int64_t kKeyBlock = 256;   // keys per step of the online softmax: 64 x 256 scores = 64 KiB
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
  check(k.dim(0) == g.batch && k.dim(3) == g.head_dim, kOp, "k must be [B, S, Hkv, D] matching q: {}, {}, {}", describe_tensor("q", q),
        describe_tensor("k", k), describe_tensor("v", v));
  check(v.dim(0) == g.batch && v.dim(1) == g.capacity && v.dim(2) == g.kv_heads, kOp,
        "v must be [B, S, Hkv, Dv] matching k: {}, {}, {}", describe_tensor("q", q), describe_tensor("k", k),
        describe_tensor("v", v));
  check(g.kv_heads > 0 && g.q_heads % g.kv_heads == 0, kOp,
        "query heads must be a multiple of key/value heads: {}, {}, {}", describe_tensor("q", q),
        describe_tensor("k", k), describe_tensor("v", v));
  g.group = g.q_heads / g.kv_heads;
  check(out.dim(0) == g.batch && out.dim(1) == g.q_len && out.dim(2) == g.q_heads && out.dim(3) == g.v_dim, kOp,
        "{} must be [{}, {}, {}, {}] for {}, {}, {}", describe_tensor("out", out), g.batch, g.q_len, g.q_heads,
        g.v_dim, describe_tensor("q", q), describe_tensor("k", k), describe_tensor("v", v));
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

// Running softmax state of one query row: the maximum score so far and the sum of exp(score - max).
struct RowState {
  float max = kMinusInf;
  float sum = 0.0f;
};

// One row of a key block's scores (already Q.K, keys [0, keys) of the block) becomes unnormalised
// probabilities exp(s - max) in place: scaled, masked to the keys [first, end) the row may see, its state
// updated. Returns the factor the row's accumulator must be multiplied by before this block's P V is
// added (1 when the maximum did not change, 0 when nothing was seen before).
float update_row(float* row, int64_t first, int64_t end, int64_t keys, float scale, const float* additive,
                 const uint8_t* key_mask, RowState& state) {
  if (end <= first) {
    std::fill(row, row + keys, 0.0f);
    return 1.0f;
  }
  std::fill(row, row + first, 0.0f);
  std::fill(row + end, row + keys, 0.0f);
#pragma omp simd
  for (int64_t j = first; j < end; ++j) row[j] *= scale;
  if (additive) {
#pragma omp simd
    for (int64_t j = first; j < end; ++j) row[j] += additive[j];
  }
  if (key_mask)
    for (int64_t j = first; j < end; ++j)
      if (!key_mask[j]) row[j] = kMinusInf;
  float block_max = kMinusInf;
#pragma omp simd reduction(max : block_max)
  for (int64_t j = first; j < end; ++j) block_max = std::max(block_max, row[j]);
  if (only_minus_inf(block_max)) {  // everything here masked: contributes nothing
    std::fill(row + first, row + end, 0.0f);
    return 1.0f;
  }
  const float max = std::max(state.max, block_max);
  const float correction = state.max == kMinusInf ? 0.0f : std::exp(state.max - max);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = first; j < end; ++j) {
    row[j] = vector_exp(row[j] - max);  // exp(-inf) = 0 for masked keys
    sum += row[j];
  }
  state.sum = state.sum * correction + sum;
  state.max = max;
  return correction;
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
  const int64_t max_rows = rows_are_heads ? g.group : std::min(kMaxRows, g.q_len);
  const int64_t blocks_per_head = rows_are_heads ? 1 : (g.q_len + max_rows - 1) / max_rows;
  const int64_t heads_per_batch = rows_are_heads ? g.kv_heads : g.q_heads;
  const int64_t tasks = g.batch * heads_per_batch * blocks_per_head;
  const int64_t q_row_stride = rows_are_heads ? g.head_dim : g.q_heads * g.head_dim;
  const int64_t out_row_stride = rows_are_heads ? g.v_dim : g.q_heads * g.v_dim;
  const int64_t k_row_stride = g.kv_heads * g.head_dim, v_row_stride = g.kv_heads * g.v_dim;
  // A bf16 cache is widened per key block into dense [keys, D] blocks; an f32 one is read in place.
  const bool widen = k.dtype() == DType::BF16;
  // Fixed strides (a key block's width, the accumulator's row), so the GEMM primitives are reused for
  // every call and every sequence length.
  const StridedGemm::Layout scores_layout{.lda = q_row_stride, .ldb = widen ? g.head_dim : k_row_stride,
                                          .ldc = kKeyBlock, .b_column_major = true};
  const StridedGemm::Layout values_layout{.lda = kKeyBlock, .ldb = widen ? g.v_dim : v_row_stride, .ldc = g.v_dim,
                                          .b_column_major = false, .accumulate = true};
  static StridedGemm gemm;

  // With a single task the region is inactive and oneDNN parallelises the GEMMs itself.
#pragma omp parallel if (tasks > 1)
  {
    // Grow only: steady-state calls allocate nothing.
    thread_local std::vector<float> scores, accumulator;
    thread_local std::vector<RowState> states;
    thread_local std::vector<float> wide_keys, wide_values;  // bf16 caches only
    if (scores.size() < size_t(max_rows * kKeyBlock)) scores.resize(size_t(max_rows * kKeyBlock));
    if (accumulator.size() < size_t(max_rows * g.v_dim)) accumulator.resize(size_t(max_rows * g.v_dim));
    if (states.size() < size_t(max_rows)) states.resize(size_t(max_rows));
    if (widen) {
      if (wide_keys.size() < size_t(kKeyBlock * g.head_dim)) wide_keys.resize(size_t(kKeyBlock * g.head_dim));
      if (wide_values.size() < size_t(kKeyBlock * g.v_dim)) wide_values.resize(size_t(kKeyBlock * g.v_dim));
    }
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
      auto additive_row = [&](int64_t r) -> const float* {
        if (!additive) return nullptr;
        const int64_t mb = additive->dim(0) == 1 ? 0 : b, mh = additive->dim(1) == 1 ? 0 : head_of(r);
        return additive->data<float>() + ((mb * additive->dim(1) + mh) * g.q_len + query_of(r)) * g.kv_len;
      };

      const float* q_rows = q.data<float>() + ((b * g.q_len + first_query) * g.q_heads + first_head) * g.head_dim;
      float* out_rows = out.data<float>() + ((b * g.q_len + first_query) * g.q_heads + first_head) * g.v_dim;
      std::fill_n(accumulator.data(), rows * g.v_dim, 0.0f);
      std::fill_n(states.data(), rows, RowState{});
      // Keys some row of the block sees: from the first row's window start to the last row's causal limit.
      const int64_t keys_begin = first_key(query_of(0)) / kKeyBlock * kKeyBlock;
      const int64_t keys_end = visible_keys(query_of(rows - 1));
      const uint8_t* batch_key_mask = key_mask ? key_mask + b * g.capacity : nullptr;
      const float* k_head = nullptr;
      const float* v_head = nullptr;
      if (!widen) {
        k_head = k.data<float>() + b * g.capacity * k_row_stride + kv_head * g.head_dim;
        v_head = v.data<float>() + b * g.capacity * v_row_stride + kv_head * g.v_dim;
      }
      for (int64_t kb = keys_begin; kb < keys_end; kb += kKeyBlock) {
        const int64_t n = std::min(kKeyBlock, keys_end - kb);
        const float* keys = nullptr;
        const float* values = nullptr;
        if (widen) {
          const auto* k16 = k.data<uint16_t>() + (b * g.capacity + kb) * k_row_stride + kv_head * g.head_dim;
          const auto* v16 = v.data<uint16_t>() + (b * g.capacity + kb) * v_row_stride + kv_head * g.v_dim;
          for (int64_t j = 0; j < n; ++j) {
            to_f32(DType::BF16, k16 + j * k_row_stride, wide_keys.data() + j * g.head_dim, g.head_dim);
            to_f32(DType::BF16, v16 + j * v_row_stride, wide_values.data() + j * g.v_dim, g.v_dim);
          }
          keys = wide_keys.data();
          values = wide_values.data();
        } else {
          keys = k_head + kb * k_row_stride;
          values = v_head + kb * v_row_stride;
        }
        gemm.multiply(scores_layout, rows, n, g.head_dim, q_rows, keys, scores.data());
        bool any = false;
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t query = query_of(r);
          const int64_t first = std::clamp<int64_t>(first_key(query) - kb, 0, n);
          const int64_t end = std::clamp<int64_t>(visible_keys(query) - kb, 0, n);
          const float* additive_block = additive ? additive_row(r) + kb : nullptr;
          const float correction =
              update_row(scores.data() + r * kKeyBlock, first, end, n, params.scale, additive_block,
                         batch_key_mask ? batch_key_mask + kb : nullptr, states[size_t(r)]);
          if (correction != 1.0f) {
            float* acc = accumulator.data() + r * g.v_dim;
#pragma omp simd
            for (int64_t d = 0; d < g.v_dim; ++d) acc[d] *= correction;
          }
          any = any || end > first;
        }
        if (any) gemm.multiply(values_layout, rows, g.v_dim, n, scores.data(), values, accumulator.data());
      }
      for (int64_t r = 0; r < rows; ++r) {
        const float sum = states[size_t(r)].sum;
        const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;  // a row with nothing to attend to becomes zeros
        const float* acc = accumulator.data() + r * g.v_dim;
        float* dst = out_rows + r * out_row_stride;
#pragma omp simd
        for (int64_t d = 0; d < g.v_dim; ++d) dst[d] = acc[d] * inv;
      }
    }
  }
}

}  // namespace vlm::cpu
