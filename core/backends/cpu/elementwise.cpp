// Embedding lookup and the elementwise ops (add/mul with trailing broadcast, scale).
#include "checks.hpp"
#include "cpu_ops.hpp"
#include "float_convert.hpp"
#include "parallel.hpp"

namespace vlm::cpu {
namespace {

template <typename Id>
void gather_rows(const Id* ids, int64_t count, const Tensor& table, float* out) {
  const int64_t vocab = table.dim(0), width = table.dim(1);
  // Validate every id before writing anything, so a bad id leaves `out` untouched.
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      fail("embedding: id {} at position {} is outside the vocabulary [0, {})", int64_t(ids[i]), i, vocab);
  const auto* rows = static_cast<const uint8_t*>(table.raw());
  const size_t row_bytes = size_t(width) * dtype_size(table.dtype());
  parallel_for(count, width, [&](int64_t i) {
    to_f32(table.dtype(), rows + size_t(ids[i]) * row_bytes, out + i * width, width);
  });
}

// b's shape without leading 1s must be a suffix of a's shape ("trailing broadcast").
void check_trailing_broadcast(std::string_view op, const Tensor& a, const Tensor& b) {
  int b_first = 0;
  while (b_first < b.rank() - 1 && b.dim(b_first) == 1) ++b_first;
  const int b_rank = b.rank() - b_first;
  bool ok = b_rank <= a.rank() && b.numel() > 0;
  for (int i = 0; ok && i < b_rank; ++i) ok = b.dim(b.rank() - 1 - i) == a.dim(a.rank() - 1 - i);
  check(ok || a.numel() == 0, op, "{} cannot be broadcast over the trailing dimensions of {}",
        describe_tensor("b", b), describe_tensor("a", a));
}

template <typename Combine>
void broadcast_binary(std::string_view op, const Tensor& a, const Tensor& b, Tensor& out, Combine combine) {
  check_tensor(op, "a", a, {DType::F32});
  check_tensor(op, "b", b, kFloatDTypes);
  check_tensor(op, "out", out, {DType::F32});
  check_same_shape(op, "a", a, "out", out);
  check_trailing_broadcast(op, a, b);
  if (a.numel() == 0) return;
  const F32View b_f32(b);
  const float* bp = b_f32.data();
  const float* ap = a.data<float>();
  float* o = out.data<float>();
  const int64_t period = b.numel();
  parallel_for(a.numel() / period, period, [&](int64_t row) {
    const float* ar = ap + row * period;
    float* orow = o + row * period;
#pragma omp simd
    for (int64_t i = 0; i < period; ++i) orow[i] = combine(ar[i], bp[i]);
  });
}

}  // namespace

void embedding(const Tensor& ids, const Tensor& table, Tensor& out) {
  constexpr std::string_view op = "embedding";
  check_tensor(op, "ids", ids, {DType::I32, DType::I64});
  check_tensor(op, "table", table, kFloatDTypes);
  check_tensor(op, "out", out, {DType::F32});
  check_rank(op, "table", table, 2);
  const int64_t width = table.dim(1);
  check(out.rank() >= 1 && out.dim(-1) == width && out.numel() == ids.numel() * width, op,
        "{} must be [{}, {}] for {} and {}", describe_tensor("out", out), ids.numel(), width,
        describe_tensor("ids", ids), describe_tensor("table", table));
  if (ids.dtype() == DType::I32) gather_rows(ids.data<int32_t>(), ids.numel(), table, out.data<float>());
  else gather_rows(ids.data<int64_t>(), ids.numel(), table, out.data<float>());
}

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  broadcast_binary("add", a, b, out, [](float x, float y) { return x + y; });
}

void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  broadcast_binary("mul", a, b, out, [](float x, float y) { return x * y; });
}

void scale(const Tensor& x, float s, Tensor& out) {
  constexpr std::string_view op = "scale";
  check_tensor(op, "x", x, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check_same_shape(op, "x", x, "out", out);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  parallel_chunks(x.numel(), 8192, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) o[i] = in[i] * s;
  });
}

}  // namespace vlm::cpu
