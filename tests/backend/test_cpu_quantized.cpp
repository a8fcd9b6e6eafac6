// Quantised weights (vlm/tensor/quantized.hpp): the stored format against its definition, and the CPU
// backend's matmul on them against double-precision references.
//  * Format: dequantised values within half a quantisation step of the source (a full step where Q4's
//    asymmetric range clamps +8 to +7), the block's extreme value exact.
//  * Matmul, 1-8 rows on the int8 kernel: a reference that quantises the activations exactly as specified
//    (per block of 64, scale = max / 127, round to nearest even), tolerance 1e-5 x sum |terms| (f32
//    accumulation); and 2% x sum |terms| from the unquantised product (what activation rounding may cost).
//  * Matmul, more rows (dequantised blocks): bf16 blocks on the onednn path (8e-3 x sum |terms|: x and w
//    each rounded to bf16), f32 blocks on the widen path (1e-5).
#include <cstdlib>

#include "backend/backend_test_util.hpp"
#include "vlm/tensor/quantized.hpp"

namespace vlm::test {
namespace {

Tensor random_matrix(int64_t n, int64_t k, uint32_t seed, DType dtype) {
  Tensor w = random_f32({n, k}, seed);
  // Vary the scale per row, and give one row a single large value, as trained weights have.
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < k; ++i) w.data<float>()[r * k + i] *= 0.05f * float(r % 5 + 1);
  if (n > 2) w.data<float>()[2 * k + 7] = 1.5f;
  return w.to(dtype);
}

bool widen_path() {
  const char* v = std::getenv("VLM_CPU_MATMUL");
  return v && std::string(v) == "widen";
}

bool int8_kernel() { return cpu().report(false).value("quantized_kernel", "") == "vnni"; }

// x . w for every row pair, in double: `x` as given, w dequantised.
void reference(const std::vector<double>& x, int64_t m, const Tensor& wq, std::vector<double>& out,
               std::vector<double>& magnitude) {
  const Tensor w = dequantize(wq);
  const int64_t n = w.dim(0), k = w.dim(1);
  out.assign(size_t(m * n), 0.0);
  magnitude.assign(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t kk = 0; kk < k; ++kk) {
        const double t = x[size_t(i * k + kk)] * double(w.data<float>()[j * k + kk]);
        out[size_t(i * n + j)] += t;
        magnitude[size_t(i * n + j)] += std::abs(t);
      }
}

// x quantised per block of 64 as the int8 kernel specifies.
std::vector<double> quantized_activations(const Tensor& x) {
  const int64_t k = x.dim(-1), rows = x.numel() / k;
  std::vector<double> out(size_t(x.numel()));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < k / 64; ++b) {
      const float* v = x.data<float>() + r * k + b * 64;
      float max = 0.0f;
      for (int i = 0; i < 64; ++i) max = std::max(max, std::abs(v[i]));
      const float inverse = max > 0.0f ? 127.0f / max : 0.0f, scale = max / 127.0f;
      for (int i = 0; i < 64; ++i) out[size_t(r * k + b * 64 + i)] = double(std::nearbyint(v[i] * inverse)) * scale;
    }
  return out;
}

void check_within(const Tensor& out, const std::vector<double>& expected, const std::vector<double>& magnitude,
                  double relative, const char* what) {
  for (int64_t i = 0; i < out.numel(); ++i) {
    INFO(what << ": element " << i << " of " << out.shape().str() << ": " << out.item(i) << " vs "
              << expected[size_t(i)] << " (sum |terms| " << magnitude[size_t(i)] << ")");
    REQUIRE(std::abs(out.item(i) - expected[size_t(i)]) <= relative * magnitude[size_t(i)] + 1e-6);
  }
}

void check_quantized_matmul(Quantization q, int64_t m, int64_t n, int64_t k, bool with_bias, uint32_t seed) {
  const Tensor wq = quantize(random_matrix(n, k, seed, DType::BF16), q);
  const Tensor x = random_f32({m, k}, seed + 1);
  const Tensor bias = random_f32({n}, seed + 2);
  Tensor out = cpu().empty({m, n}, DType::F32);
  cpu().matmul(x, wq, with_bias ? &bias : nullptr, out, true);
  if (with_bias)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) out.data<float>()[i * n + j] -= bias.data<float>()[j];

  std::vector<double> expected, magnitude;
  INFO(quantization_name(q) << " m=" << m << " n=" << n << " k=" << k);
  if (m <= 8 && int8_kernel()) {
    reference(quantized_activations(x), m, wq, expected, magnitude);
    check_within(out, expected, magnitude, 1e-5, "int8 kernel vs quantised-activation reference");
    reference(values(x), m, wq, expected, magnitude);
    check_within(out, expected, magnitude, 2e-2, "int8 kernel vs unquantised activations");
  } else {
    reference(values(x), m, wq, expected, magnitude);
    check_within(out, expected, magnitude, widen_path() ? 1e-5 : 8e-3, "dequantised blocks");
  }
}

}  // namespace

TEST_CASE("quantised storage: sizes, planes and refusals", "[quantized]") {
  CHECK(storage_bytes({3, 128}, DType::Q8) == 3 * 128 + 3 * 4);
  CHECK(storage_bytes({3, 128}, DType::Q4) == 3 * 2 * (32 + 2));
  const Tensor q = quantize(random_matrix(3, 128, 1, DType::F32), Quantization::Int8);
  CHECK(q.nbytes() == 3 * 128 + 3 * 4);
  CHECK(reinterpret_cast<const uint8_t*>(q8_planes(q).scales) == static_cast<const uint8_t*>(q.raw()) + 384);
  CHECK_THROWS_WITH(quantize(random_f32({4, 100}, 2), Quantization::Int8), Catch::Contains("multiple of 64"));
  CHECK_THROWS_WITH(q.rows(0, 1), Catch::Contains("q8"));
  CHECK_THROWS_WITH(q.to(DType::F32), Catch::Contains("dequantize"));
  CHECK(quantization_from_name("int4") == Quantization::Int4);
  CHECK_FALSE(quantization_from_name("int3"));
}

TEST_CASE("int8 per-channel quantisation is within half a step of the weights", "[quantized]") {
  for (const DType source : {DType::F32, DType::BF16, DType::F16}) {
    Tensor w = random_matrix(6, 192, 3, source);
    if (source == DType::F32) std::fill_n(w.data<float>() + 4 * 192, 192, 0.0f);  // an all-zero row
    const Tensor q = quantize(w, Quantization::Int8, 2);
    const Tensor d = dequantize(q);
    const Q8Planes planes = q8_planes(q);
    for (int64_t r = 0; r < 6; ++r) {
      double max = 0.0;
      for (int64_t i = 0; i < 192; ++i) max = std::max(max, std::abs(w.item(r * 192 + i)));
      REQUIRE(planes.scales[r] == Approx(max / 127).epsilon(1e-6));
      for (int64_t i = 0; i < 192; ++i) {
        INFO(dtype_name(source) << " row " << r << " column " << i);
        REQUIRE(std::abs(d.item(r * 192 + i) - w.item(r * 192 + i)) <= planes.scales[r] * 0.5 * (1 + 1e-5) + 1e-12);
      }
    }
    CHECK(d.item(2 * 192 + 7) == Approx(w.item(2 * 192 + 7)).epsilon(1e-6));  // the row's extreme is exact
  }
}

TEST_CASE("int4 group-wise quantisation is within a step of the weights", "[quantized]") {
  const Tensor w = random_matrix(4, 256, 5, DType::BF16);
  const Tensor q = quantize(w, Quantization::Int4);
  const Tensor d = dequantize(q);
  const Q4Planes planes = q4_planes(q);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t g = 0; g < 4; ++g) {
      const double step = std::abs(bf16_to_f32(planes.scales[r * 4 + g]));
      REQUIRE(step > 0);
      for (int64_t i = 0; i < 64; ++i) {
        const int64_t at = r * 256 + g * 64 + i;
        const double level = w.item(at) / bf16_to_f32(planes.scales[r * 4 + g]);  // in [-8, 8]
        INFO("row " << r << " group " << g << " value " << i << " level " << level);
        REQUIRE(std::abs(level) <= 8.0 * (1 + 1e-2));
        // +8 does not exist (levels -8..7): such values round down a whole step at most.
        REQUIRE(std::abs(d.item(at) - w.item(at)) <= step * (level > 7.5 ? 1.0 : 0.5) * (1 + 1e-5));
      }
    }
  // The extreme value maps to level -8 exactly: only the bf16 rounding of its scale remains.
  CHECK(d.item(2 * 256 + 7) == Approx(w.item(2 * 256 + 7)).epsilon(4e-3));
}

TEST_CASE("matmul on int8 weights matches the reference", "[cpu][matmul][quantized]") {
  uint32_t seed = 700;
  for (const int64_t m : {1, 2, 3, 4, 5, 8, 9, 40, 300})
    for (const bool bias : {false, true}) check_quantized_matmul(Quantization::Int8, m, 37, 192, bias, seed++);
  check_quantized_matmul(Quantization::Int8, 1, 1000, 64, false, seed++);  // n split over threads, k = one block
}

TEST_CASE("matmul on int4 weights matches the reference", "[cpu][matmul][quantized]") {
  uint32_t seed = 800;
  for (const int64_t m : {1, 2, 3, 4, 6, 8, 9, 40, 300})
    for (const bool bias : {false, true}) check_quantized_matmul(Quantization::Int4, m, 37, 192, bias, seed++);
  check_quantized_matmul(Quantization::Int4, 2, 517, 64 * 17, true, seed++);  // groups beyond one 16-group chunk
}

TEST_CASE("matmul on quantised weights refuses what it cannot do", "[cpu][matmul][quantized]") {
  const Tensor wq = quantize(random_matrix(8, 64, 9, DType::F32), Quantization::Int8);
  Tensor out = cpu().empty({2, 8}, DType::F32);
  CHECK_THROWS_WITH(cpu().matmul(random_f32({2, 64}, 1).to(DType::BF16), wq, nullptr, out, true),
                    Catch::Contains("x"));
  Tensor out_t = cpu().empty({2, 64}, DType::F32);
  CHECK_THROWS_WITH(cpu().matmul(random_f32({2, 8}, 1), wq, nullptr, out_t, false), Catch::Contains("w_transposed"));
  CHECK(cpu().supports(Op::Matmul, DType::Q8));
  CHECK(cpu().supports(Op::Matmul, DType::Q4));
  CHECK_FALSE(cpu().supports(Op::RmsNorm, DType::Q8));
}

}  // namespace vlm::test
