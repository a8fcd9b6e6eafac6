#include "op_checks.hpp"

#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vlm/util/error.hpp"

namespace vlm::cuda {
namespace {

void require_defined(std::string_view op, std::string_view name, const Tensor& t) {
  if (!t.defined()) fail("{}: {} is an undefined tensor", op, name);
}

void require_dtype(std::string_view op, std::string_view name, const Tensor& t, DType dtype) {
  require_defined(op, name, t);
  if (t.dtype() != dtype)
    fail("{}: {} has dtype {}, expected {}", op, name, dtype_name(t.dtype()), dtype_name(dtype));
}

void require_float(std::string_view op, std::string_view name, const Tensor& t) {
  require_defined(op, name, t);
  if (!is_float(t.dtype())) fail("{}: {} has dtype {}, expected f32, bf16 or f16", op, name, dtype_name(t.dtype()));
}

void require_rank(std::string_view op, std::string_view name, const Tensor& t, int rank) {
  if (t.rank() != rank) fail("{}: {} has shape {}, expected rank {}", op, name, t.shape().str(), rank);
}

void require_min_rank(std::string_view op, std::string_view name, const Tensor& t, int rank) {
  if (t.rank() < rank) fail("{}: {} has shape {}, expected rank {} or more", op, name, t.shape().str(), rank);
}

void require_shape(std::string_view op, std::string_view name, const Tensor& t, const Shape& shape) {
  if (!(t.shape() == shape)) fail("{}: {} has shape {}, expected {}", op, name, t.shape().str(), shape.str());
}

// `x` as [rows, cols] over its last dimension.
RowsShape rows_of(const Tensor& x) {
  int64_t rows = 1;
  for (int d = 0; d + 1 < x.rank(); ++d) rows *= x.dim(d);
  return {rows, x.dim(-1)};
}

int normalized_axis(std::string_view op, int axis, int rank) {
  const int normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) fail("{}: axis {} is out of range for rank {}", op, axis, rank);
  return normalized;
}

AxisSplit split_around(const Shape& shape, int axis) {
  AxisSplit split{axis, 1, 1};
  for (int d = 0; d < axis; ++d) split.outer *= shape[d];
  for (int d = axis + 1; d < shape.rank(); ++d) split.inner *= shape[d];
  return split;
}

// Output dimension d is input dimension perm[d]; `in_dims` is the (possibly reshaped) input.
PermutePlan plan_permutation(std::span<const int64_t> in_dims, std::span<const int> perm) {
  std::array<int64_t, PermutePlan::kMaxRank> in_strides{};
  int64_t stride = 1;
  for (int d = int(in_dims.size()) - 1; d >= 0; --d) {
    in_strides[size_t(d)] = stride;
    stride *= in_dims[size_t(d)];
  }
  PermutePlan plan;
  plan.rank = int(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    plan.out_dims[d] = in_dims[size_t(perm[d])];
    plan.src_strides[d] = in_strides[size_t(perm[d])];
  }
  return plan;
}

}  // namespace

void require_on_device(Device device, std::string_view op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (!t) continue;
    require_defined(op, "an input or output", *t);
    if (!(t->device() == device))
      fail("{}: a tensor of shape {} is on {}, expected {} (upload it first)", op, t->shape().str(),
           device_name(t->device()), device_name(device));
  }
}

void check_copy(Device device, const Tensor& src, const Tensor& dst) {
  constexpr std::string_view op = "copy";
  require_defined(op, "src", src);
  require_dtype(op, "dst", dst, src.dtype());
  require_shape(op, "dst", dst, src.shape());
  const auto reachable = [&](const Tensor& t) { return t.is_host() || t.device() == device; };
  if (!reachable(src) || !reachable(dst) || (src.is_host() && dst.is_host()))
    fail("copy: {} -> {} does not involve this backend's {} (and the host at most)", device_name(src.device()),
         device_name(dst.device()), device_name(device));
}

MatmulShape check_matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out,
                         bool w_transposed) {
  constexpr std::string_view op = "matmul";
  require_float(op, "w", w);
  require_rank(op, "w", w, 2);
  require_defined(op, "x", x);
  if (x.dtype() != DType::F32 && x.dtype() != w.dtype())
    fail("matmul: x has dtype {}, expected f32 or the weight's dtype {}", dtype_name(x.dtype()),
         dtype_name(w.dtype()));
  require_min_rank(op, "x", x, 1);
  const auto [rows, k] = rows_of(x);
  const int64_t w_k = w_transposed ? w.dim(1) : w.dim(0);
  const int64_t n = w_transposed ? w.dim(0) : w.dim(1);
  if (w_k != k)
    fail("matmul: x {} and w {} ({}) disagree on the inner dimension", x.shape().str(), w.shape().str(),
         w_transposed ? "[N, K]" : "[K, N]");
  if (bias) {
    require_float(op, "bias", *bias);
    require_shape(op, "bias", *bias, Shape{n});
  }
  require_dtype(op, "out", out, DType::F32);
  Shape expected = x.shape();
  expected[-1] = n;
  require_shape(op, "out", out, expected);
  return {rows, k, n};
}

AttentionShape check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const AttentionParams& params) {
  constexpr std::string_view op = "attention";
  using Named = std::pair<std::string_view, const Tensor*>;
  for (const auto& [name, t] : std::initializer_list<Named>{{"q", &q}, {"k", &k}, {"v", &v}, {"out", &out}}) {
    // Keys and values may be a bf16 KV cache (both the same); queries and outputs are f32.
    require_dtype(op, name, *t, (t == &k || t == &v) && k.dtype() == DType::BF16 ? DType::BF16 : DType::F32);
    require_rank(op, name, *t, 4);
  }
  AttentionShape s{};
  s.batch = q.dim(0);
  s.q_len = q.dim(1);
  s.q_heads = q.dim(2);
  s.head_dim = q.dim(3);
  s.kv_capacity = k.dim(1);
  s.kv_heads = k.dim(2);
  s.v_head_dim = v.dim(3);
  require_shape(op, "k", k, Shape{s.batch, s.kv_capacity, s.kv_heads, s.head_dim});
  require_shape(op, "v", v, Shape{s.batch, s.kv_capacity, s.kv_heads, s.v_head_dim});
  if (s.kv_heads == 0 || s.q_heads % s.kv_heads != 0)
    fail("attention: q {} has {} heads, not a multiple of the {} heads of k {}", q.shape().str(), s.q_heads,
         s.kv_heads, k.shape().str());
  require_shape(op, "out", out, Shape{s.batch, s.q_len, s.q_heads, s.v_head_dim});
  s.kv_len = params.kv_len < 0 ? s.kv_capacity : params.kv_len;
  if (s.kv_len > s.kv_capacity)
    fail("attention: kv_len {} exceeds the {} rows of k {}", s.kv_len, s.kv_capacity, k.shape().str());
  if (params.q_offset < 0) fail("attention: negative q_offset {}", params.q_offset);
  if (params.window < 0 || (params.window > 0 && !params.causal))
    fail("attention: window {} must be >= 0, and only with causal attention", params.window);
  if (params.key_mask) {
    require_dtype(op, "key_mask", *params.key_mask, DType::U8);
    require_shape(op, "key_mask", *params.key_mask, Shape{s.batch, s.kv_capacity});
  }
  if (const Tensor* mask = params.additive_mask) {
    require_dtype(op, "additive_mask", *mask, DType::F32);
    require_rank(op, "additive_mask", *mask, 4);
    const bool batch_ok = mask->dim(0) == 1 || mask->dim(0) == s.batch;
    const bool heads_ok = mask->dim(1) == 1 || mask->dim(1) == s.q_heads;
    if (!batch_ok || !heads_ok || mask->dim(2) != s.q_len || mask->dim(3) != s.kv_len)
      fail("attention: additive_mask has shape {}, expected [{} or 1, {} or 1, {}, {}] (kv_len {})",
           mask->shape().str(), s.batch, s.q_heads, s.q_len, s.kv_len, s.kv_len);
    s.mask_head_stride = mask->dim(1) == 1 ? 0 : s.q_len * s.kv_len;
    s.mask_batch_stride = mask->dim(0) == 1 ? 0 : mask->dim(1) * s.q_len * s.kv_len;
  }
  return s;
}

RowsShape check_rms_norm(const Tensor& x, const Tensor& weight, const Tensor& out) {
  constexpr std::string_view op = "rms_norm";
  require_dtype(op, "x", x, DType::F32);
  require_min_rank(op, "x", x, 1);
  require_float(op, "weight", weight);
  require_shape(op, "weight", weight, Shape{x.dim(-1)});
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, x.shape());
  return rows_of(x);
}

RowsShape check_layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, const Tensor& out) {
  constexpr std::string_view op = "layer_norm";
  require_dtype(op, "x", x, DType::F32);
  require_min_rank(op, "x", x, 1);
  require_float(op, "weight", weight);
  require_shape(op, "weight", weight, Shape{x.dim(-1)});
  if (bias) {
    require_float(op, "bias", *bias);
    require_shape(op, "bias", *bias, Shape{x.dim(-1)});
  }
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, x.shape());
  return rows_of(x);
}

RowsShape check_softmax(const Tensor& x, const Tensor& out) {
  check_unary("softmax", x, out);
  require_min_rank("softmax", "x", x, 1);
  return rows_of(x);
}

int64_t check_unary(std::string_view op, const Tensor& x, const Tensor& out) {
  require_dtype(op, "x", x, DType::F32);
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, x.shape());
  return x.numel();
}

int64_t check_gated_activation(const Tensor& gate, const Tensor& up, const Tensor& out) {
  constexpr std::string_view op = "gated_activation";
  require_dtype(op, "gate", gate, DType::F32);
  require_dtype(op, "up", up, DType::F32);
  require_shape(op, "up", up, gate.shape());
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, gate.shape());
  return gate.numel();
}

RotaryShape check_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out) {
  constexpr std::string_view op = "rotary";
  require_dtype(op, "x", x, DType::F32);
  require_rank(op, "x", x, 4);
  require_dtype(op, "cos", cos, DType::F32);
  require_rank(op, "cos", cos, 3);
  require_dtype(op, "sin", sin, DType::F32);
  require_shape(op, "sin", sin, cos.shape());
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, x.shape());
  const RotaryShape s{x.dim(0), x.dim(1), x.dim(2), x.dim(3), cos.dim(2), cos.dim(0) != 1};
  if ((cos.dim(0) != 1 && cos.dim(0) != s.batch) || cos.dim(1) != s.seq || s.rotary_dim > s.head_dim ||
      s.rotary_dim % 2 != 0)
    fail("rotary: cos/sin {} do not fit x {}: expected [{} or 1, {}, an even size <= {}]", cos.shape().str(),
         x.shape().str(), s.batch, s.seq, s.head_dim);
  return s;
}

EmbeddingShape check_embedding(const Tensor& ids, const Tensor& table, const Tensor& out) {
  constexpr std::string_view op = "embedding";
  require_defined(op, "ids", ids);
  if (ids.dtype() != DType::I32 && ids.dtype() != DType::I64)
    fail("embedding: ids have dtype {}, expected i32 or i64", dtype_name(ids.dtype()));
  require_rank(op, "ids", ids, 1);
  require_float(op, "table", table);
  require_rank(op, "table", table, 2);
  const EmbeddingShape s{ids.dim(0), table.dim(0), table.dim(1)};
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, Shape{s.count, s.dim});
  return s;
}

std::vector<int64_t> checked_embedding_ids(const Tensor& host_ids, int64_t vocab) {
  std::vector<int64_t> ids(size_t(host_ids.numel()));
  for (size_t n = 0; n < ids.size(); ++n) {
    ids[n] = host_ids.dtype() == DType::I32 ? host_ids.data<int32_t>()[n] : host_ids.data<int64_t>()[n];
    if (ids[n] < 0 || ids[n] >= vocab)
      fail("embedding: id {} at position {} is outside the table's [0, {})", ids[n], n, vocab);
  }
  return ids;
}

BroadcastShape check_broadcast(std::string_view op, const Tensor& a, const Tensor& b, const Tensor& out) {
  require_dtype(op, "a", a, DType::F32);
  require_float(op, "b", b);
  require_dtype(op, "out", out, DType::F32);
  require_shape(op, "out", out, a.shape());
  const bool divides = b.numel() > 0 ? a.numel() % b.numel() == 0 : a.numel() == 0;
  if (!divides)
    fail("{}: b {} cannot be broadcast over a {}: its size must divide a's", op, b.shape().str(), a.shape().str());
  return {a.numel(), b.numel()};
}

AxisSplit check_concat(std::span<const Tensor* const> parts, int axis, const Tensor& out) {
  constexpr std::string_view op = "concat";
  if (parts.empty()) fail("concat: no inputs");
  require_defined(op, "out", out);
  const int a = normalized_axis(op, axis, out.rank());
  int64_t total = 0;
  for (const Tensor* part : parts) {
    if (!part) fail("concat: a null input");
    require_dtype(op, "an input", *part, out.dtype());
    Shape expected = out.shape();
    expected[a] = part->rank() == out.rank() ? part->dim(a) : 0;
    if (!(part->shape() == expected))
      fail("concat: input {} does not match out {} outside axis {}", part->shape().str(), out.shape().str(), a);
    total += part->dim(a);
  }
  if (total != out.dim(a))
    fail("concat: inputs add up to {} along axis {}, but out {} has {}", total, a, out.shape().str(), out.dim(a));
  return split_around(out.shape(), a);
}

AxisSplit check_slice(const Tensor& x, int axis, int64_t start, const Tensor& out) {
  constexpr std::string_view op = "slice";
  require_defined(op, "x", x);
  require_dtype(op, "out", out, x.dtype());
  const int a = normalized_axis(op, axis, x.rank());
  Shape expected = x.shape();
  expected[a] = out.rank() == x.rank() ? out.dim(a) : 0;
  if (!(out.shape() == expected))
    fail("slice: out {} does not match x {} outside axis {}", out.shape().str(), x.shape().str(), a);
  if (start < 0 || start + out.dim(a) > x.dim(a))
    fail("slice: [{}, {}) is out of range for axis {} of x {}", start, start + out.dim(a), a, x.shape().str());
  return split_around(x.shape(), a);
}

PermutePlan check_permute(const Tensor& x, std::span<const int> perm, const Tensor& out) {
  constexpr std::string_view op = "permute";
  require_defined(op, "x", x);
  require_dtype(op, "out", out, x.dtype());
  const auto bad_perm = [&] {
    fail("permute: ({}) is not a permutation of the {} axes of x {}", fmt::join(perm, ", "), x.rank(),
         x.shape().str());
  };
  if (int(perm.size()) != x.rank()) bad_perm();
  std::array<bool, PermutePlan::kMaxRank> seen{};
  for (const int p : perm) {
    if (p < 0 || p >= x.rank() || seen[size_t(p)]) bad_perm();
    seen[size_t(p)] = true;
  }
  PermutePlan plan = plan_permutation(x.shape().dims(), perm);
  require_shape(op, "out", out, Shape(std::span<const int64_t>(plan.out_dims.data(), size_t(plan.rank))));
  return plan;
}

PermutePlan check_patchify(const Tensor& img, int patch, const Tensor& out) {
  constexpr std::string_view op = "patchify";
  require_defined(op, "img", img);
  require_rank(op, "img", img, 4);
  require_dtype(op, "out", out, img.dtype());
  const int64_t b = img.dim(0), c = img.dim(1), h = img.dim(2), w = img.dim(3), p = patch;
  if (p <= 0 || h % p != 0 || w % p != 0)
    fail("patchify: img {} is not divisible into {}x{} patches", img.shape().str(), patch, patch);
  require_shape(op, "out", out, Shape{b, (h / p) * (w / p), c * p * p});
  const std::array<int64_t, 6> grid_view{b, c, h / p, p, w / p, p};
  constexpr std::array<int, 6> patch_major{0, 2, 4, 1, 3, 5};
  return plan_permutation(grid_view, patch_major);
}

void check_convert(const Tensor& x, const Tensor& out) {
  constexpr std::string_view op = "convert";
  require_defined(op, "x", x);
  require_defined(op, "out", out);
  require_shape(op, "out", out, x.shape());
  if (x.dtype() != out.dtype() && !(is_float(x.dtype()) && is_float(out.dtype())))
    fail("convert: {} -> {} is not supported (float dtypes convert among themselves; others only copy)",
         dtype_name(x.dtype()), dtype_name(out.dtype()));
}

}  // namespace vlm::cuda
