#pragma once
// out[m, n] = dot(x[m, :], w[n, :]) (+ bias) for a few rows of bf16 activations against bf16 weights
// stored [n, k], as in a decode step that serves several sequences at once. oneDNN 2.6 is slow exactly
// there (M = 4, K = 1536, N = 8960: 62 GFLOP/s from cache, 8.6x the M = 1 time, where one pass over the
// weights should serve every row), so each weight row is read once, widened to f32 in registers (exact),
// and multiplied with every activation row by f32 FMAs, which this CPU runs at twice the bf16 dot rate.
#include <cstdint>

namespace vlm::cpu {

inline constexpr int64_t kSmallGemmMaxRows = 8;

// Whether small_m_gemm_bf16 is compiled in (AVX-512) and takes `m` rows.
bool small_m_gemm_applies(int64_t m);

// x [m, k] bf16 (activations already rounded, as oneDNN would), w [n, k] bf16, bias [n] f32 or null,
// out [m, n] f32 with row stride ldo. 2 <= m <= kSmallGemmMaxRows.
void small_m_gemm_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* x, const uint16_t* w, const float* bias,
                       float* out, int64_t ldo);

}  // namespace vlm::cpu
