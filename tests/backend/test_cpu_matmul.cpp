// matmul against a double-precision reference computed on exactly the values the backend multiplies
// (weights in their stored dtype; for bf16 weights, f32 activations rounded to bf16 as the backend does).
// Tolerance: |out - ref| <= 1e-5 * sum_k |x_k w_k| + |bias|, i.e. f32 accumulation error relative to the
// magnitude of the terms (a plain relative error is meaningless where terms cancel).
#include <optional>

#include "backend/backend_test_util.hpp"

namespace vlm::test {
namespace {

struct MatmulCase {
  Shape x_leading;  // rows as any leading dims, e.g. {2, 3}
  int64_t k, n;
  DType weight = DType::F32;
  DType x = DType::F32;
  std::optional<DType> bias;
  bool transposed = true;
};

// The backend's own rounding of x: bf16 weights multiply bf16 activations.
Tensor as_multiplied(const Tensor& x, DType weight) {
  return weight == DType::BF16 && x.dtype() == DType::F32 ? x.to(DType::BF16) : x;
}

void check_matmul(const MatmulCase& c, uint32_t seed) {
  std::vector<int64_t> x_dims(c.x_leading.dims().begin(), c.x_leading.dims().end());
  x_dims.push_back(c.k);
  const Tensor x = random_f32(Shape(x_dims), seed).to(c.x);
  const Tensor w = random_f32(c.transposed ? Shape{c.n, c.k} : Shape{c.k, c.n}, seed + 1).to(c.weight);
  const std::optional<Tensor> bias =
      c.bias ? std::optional(random_f32({c.n}, seed + 2).to(*c.bias)) : std::nullopt;
  const int64_t m = c.x_leading.numel();
  x_dims.back() = c.n;
  Tensor out = cpu().empty(Shape(x_dims), DType::F32);
  cpu().matmul(x, w, bias ? &*bias : nullptr, out, c.transposed);

  const Tensor xm = as_multiplied(x, c.weight);
  std::vector<double> xd(size_t(xm.numel())), wd(size_t(w.numel()));  // [m, k] and [n, k]
  for (int64_t i = 0; i < xm.numel(); ++i) xd[size_t(i)] = xm.item(i);
  for (int64_t j = 0; j < c.n; ++j)
    for (int64_t kk = 0; kk < c.k; ++kk)
      wd[size_t(j * c.k + kk)] = w.item(c.transposed ? j * c.k + kk : kk * c.n + j);
  std::vector<double> expected(size_t(m * c.n)), magnitude(size_t(m * c.n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      double sum = bias ? bias->item(j) : 0.0, abs_sum = std::abs(sum);
      for (int64_t kk = 0; kk < c.k; ++kk) {
        const double term = xd[size_t(i * c.k + kk)] * wd[size_t(j * c.k + kk)];
        sum += term;
        abs_sum += std::abs(term);
      }
      expected[size_t(i * c.n + j)] = sum;
      magnitude[size_t(i * c.n + j)] = abs_sum;
    }
  for (int64_t i = 0; i < out.numel(); ++i) {
    INFO("element " << i << " of " << out.shape().str() << ", weight " << dtype_name(c.weight) << ", x "
                    << dtype_name(c.x));
    REQUIRE(std::abs(out.item(i) - expected[size_t(i)]) <= 1e-5 * magnitude[size_t(i)] + 1e-7);
  }
}

}  // namespace

TEST_CASE("matmul f32 matches the reference on odd shapes", "[cpu][matmul]") {
  uint32_t seed = 10;
  for (bool transposed : {true, false})
    for (bool with_bias : {false, true}) {
      const std::optional<DType> bias = with_bias ? std::optional(DType::F32) : std::nullopt;
      check_matmul({{1}, 17, 3, DType::F32, DType::F32, bias, transposed}, seed++);
      check_matmul({{5}, 64, 33, DType::F32, DType::F32, bias, transposed}, seed++);
      check_matmul({{2, 3}, 31, 16, DType::F32, DType::F32, bias, transposed}, seed++);
      check_matmul({{40}, 100, 7, DType::F32, DType::F32, bias, transposed}, seed++);
    }
}

TEST_CASE("matmul with bf16 weights: f32 activations are rounded to bf16, bias fused", "[cpu][matmul]") {
  uint32_t seed = 100;
  for (bool transposed : {true, false}) {
    check_matmul({{1}, 17, 3, DType::BF16, DType::F32, std::nullopt, transposed}, seed++);
    check_matmul({{7}, 96, 33, DType::BF16, DType::F32, DType::F32, transposed}, seed++);
    check_matmul({{2, 5}, 45, 20, DType::BF16, DType::BF16, DType::BF16, transposed}, seed++);
    check_matmul({{1}, 300, 64, DType::BF16, DType::BF16, DType::F16, transposed}, seed++);
    check_matmul({{1}, 64, 37, DType::BF16, DType::F32, DType::F32, transposed}, seed++);  // K % 32 == 0
  }
}

TEST_CASE("matmul with bf16 weights and 2 to 8 rows (several sequences decoding) matches the reference",
          "[cpu][matmul][small_m]") {
  // Rows 2..8 take the backend's own kernel: K with and without a tail of the 32-wide steps, an odd N (a
  // last weight row without its pair), more rows than one 64-row task, with and without bias.
  uint32_t seed = 150;
  for (int64_t rows = 2; rows <= 8; ++rows) {
    check_matmul({{rows}, 45, 33, DType::BF16, DType::F32, DType::F32}, seed++);
    check_matmul({{rows}, 1024, 130, DType::BF16, DType::F32, std::nullopt}, seed++);
    check_matmul({{rows}, 7, 5, DType::BF16, DType::BF16, DType::BF16}, seed++);
  }
  check_matmul({{2, 3}, 300, 65, DType::BF16, DType::F32, DType::F32}, seed++);  // rows as leading dims
}

TEST_CASE("matmul with f16 weights (widened as they are read) matches the reference", "[cpu][matmul]") {
  uint32_t seed = 200;
  for (bool transposed : {true, false}) {
    check_matmul({{3}, 1000, 130, DType::F16, DType::F32, DType::F32, transposed}, seed++);
    check_matmul({{1}, 1000, 130, DType::F16, DType::F16, DType::BF16, transposed}, seed++);
    check_matmul({{4}, 19, 5, DType::F16, DType::F32, std::nullopt, transposed}, seed++);
  }
}

TEST_CASE("matmul with 16-bit weights on many rows: k blocks, tile remainders, widened blocks",
          "[cpu][matmul][many_rows]") {
  // Rows past one strip of 8 cut K into blocks (K = 1100: two blocks and a tail of the 16- and 32-wide
  // steps); N = 37 leaves a weight row without a tile; one row takes 8 weight rows per tile (N = 13: a
  // remainder of 5). 259 rows take the widened-block path where the widen path runs: K = 8192 widens
  // 128 weight rows per 4 MiB block, so N = 136 is a full block and a partial one.
  uint32_t seed = 250;
  for (DType weight : {DType::BF16, DType::F16}) {
    check_matmul({{1}, 77, 13, weight, DType::F32, DType::F32}, seed++);
    check_matmul({{9}, 1100, 37, weight, DType::F32, DType::F32}, seed++);
    check_matmul({{4, 5}, 1100, 37, weight, DType::F32, std::nullopt}, seed++);
    check_matmul({{40}, 333, 70, weight, DType::F32, DType::F32}, seed++);
    check_matmul({{259}, 8192, 136, weight, DType::F32, DType::F32}, seed++);
  }
}

TEST_CASE("matmul with bf16 weights stays close to the unrounded f32 product", "[cpu][matmul]") {
  // Both operands rounded to bf16 (8-bit mantissa): each term is off by at most ~2^-8 relative.
  const Tensor x = random_f32({4, 256}, 300);
  const Tensor w = random_f32({32, 256}, 301);
  Tensor out = cpu().empty({4, 32}, DType::F32);
  cpu().matmul(x, w.to(DType::BF16), nullptr, out);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 32; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (int64_t k = 0; k < 256; ++k) {
        exact += x.item(i * 256 + k) * w.item(j * 256 + k);
        magnitude += std::abs(x.item(i * 256 + k) * w.item(j * 256 + k));
      }
      REQUIRE(std::abs(out.item(i * 32 + j) - exact) <= 2.0 / 256 * magnitude);
    }
}

TEST_CASE("matmul reuses cached primitives across calls and row counts", "[cpu][matmul][cache]") {
  const Tensor w = random_f32({24, 40}, 400).to(DType::BF16);
  const Tensor bias = random_f32({24}, 401);
  const Tensor x_one = random_f32({1, 40}, 402), x_many = random_f32({9, 40}, 403);
  auto run = [&](const Tensor& x) {
    Tensor out = cpu().empty({x.dim(0), 24}, DType::F32);
    cpu().matmul(x, w, &bias, out);
    return out;
  };
  const Tensor first_one = run(x_one), first_many = run(x_many);
  const int64_t built = matmul_primitives_built();
  for (int i = 0; i < 20; ++i) {
    const Tensor again = run(i % 2 ? x_one : x_many);
    const Tensor& first = i % 2 ? first_one : first_many;
    for (int64_t e = 0; e < again.numel(); ++e) REQUIRE(again.item(e) == first.item(e));
  }
  REQUIRE(matmul_primitives_built() == built);
  // A new row count builds exactly one new primitive, once (rows 2..8 of bf16 take the backend's own kernel).
  run(random_f32({12, 40}, 404));
  run(random_f32({12, 40}, 405));
  REQUIRE(matmul_primitives_built() == built + 1);
}

TEST_CASE("matmul rejects mismatched arguments with an Error naming the op", "[cpu][matmul][errors]") {
  const Tensor x = random_f32({2, 8}, 500);
  const Tensor w = random_f32({4, 8}, 501);
  Tensor out = cpu().empty({2, 4}, DType::F32);
  REQUIRE_NOTHROW(cpu().matmul(x, w, nullptr, out));
  const Tensor wrong_k = random_f32({4, 9}, 502);
  REQUIRE_THROWS_WITH(cpu().matmul(x, wrong_k, nullptr, out), Catch::Contains("matmul") && Catch::Contains("[2, 8]"));
  Tensor wrong_out = cpu().empty({2, 5}, DType::F32);
  REQUIRE_THROWS_AS(cpu().matmul(x, w, nullptr, wrong_out), Error);
  const Tensor wrong_bias = random_f32({5}, 503);
  REQUIRE_THROWS_WITH(cpu().matmul(x, w, &wrong_bias, out), Catch::Contains("bias"));
  // Activations must be f32 or the weight's dtype.
  REQUIRE_THROWS_AS(cpu().matmul(x.to(DType::BF16), w, nullptr, out), Error);
  REQUIRE_THROWS_AS(cpu().matmul(x, w.to(DType::I32), nullptr, out), Error);
  Tensor bf16_out = cpu().empty({2, 4}, DType::BF16);
  REQUIRE_THROWS_AS(cpu().matmul(x, w, nullptr, bf16_out), Error);
  const Tensor w3 = random_f32({1, 4, 8}, 504);
  REQUIRE_THROWS_AS(cpu().matmul(x, w3, nullptr, out), Error);
}

}  // namespace vlm::test
