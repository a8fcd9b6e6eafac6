#pragma once
// exp and erf written so that `#pragma omp simd` loops vectorise them (libm's expf/erff do not vectorise
// without -ffast-math).
//
// vector_exp: Cephes' range reduction and polynomial: relative error below 2e-7 for x in [-87, 88];
// results below 2^-126 (x < -87.34) flush to 0, which only ever feeds softmax sums; NaN stays NaN.
#include <bit>
#include <cstdint>
#include <limits>

namespace vlm::cpu {

// Whether a maximum taken with `#pragma omp simd reduction(max : m)` saw nothing but -inf (a fully masked
// row). OpenMP compilers start that reduction at different values, -inf (GCC) or -FLT_MAX (clang), so
// "equals -inf" is not a portable test.
inline bool only_minus_inf(float max) { return max <= std::numeric_limits<float>::lowest(); }

#pragma omp declare simd
inline float vector_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
  constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr float kMin = -87.3365447f, kMax = 88.7228391f;
  // NaN is replaced by 0 for the arithmetic (float -> int of NaN is undefined) and returned at the end.
  const float clamped = x < kMin ? kMin : (x > kMax ? kMax : (x == x ? x : 0.0f));
  const float n = (clamped * kLog2e + kRoundMagic) - kRoundMagic;
  const float r = clamped - n * kLn2High - n * kLn2Low;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float two_to_n = std::bit_cast<float>(uint32_t(int32_t(n) + 127) << 23);
  return x < kMin ? 0.0f : (x == x ? p * two_to_n : x);
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), the same approximation PyTorch's
// vectorised CPU erf uses, so GELU-erf matches torch on CPU as closely as it matches exact erf.
#pragma omp declare simd
inline float vector_erf(float x) {
  const float a = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float magnitude = 1.0f - p * t * vector_exp(-a * a);
  return x < 0.0f ? -magnitude : magnitude;
}

}  // namespace vlm::cpu
