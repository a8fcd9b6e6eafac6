#include "small_m_gemm.hpp"

#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "parallel.hpp"

namespace vlm::cpu {

#if defined(__AVX512F__)

namespace {

#if !defined(__AVX512BF16__)
// 16 bf16 values -> 16 f32 (bf16 is the top half of an f32: exact).
inline __m512 widen(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

inline __m512 widen_masked(const uint16_t* p, __mmask16 mask) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p)), 16));
}

// R consecutive weight rows from n against every activation row: R * M independent accumulators hide the
// FMA latency; M and R are fixed at compile time so they stay in registers.
template <int M, int R>
inline void weight_rows(int64_t n, int64_t k, const float* xf, const uint16_t* w, const float* bias, float* out,
                        int64_t ldo) {
  const int64_t full = k / 16 * 16;
  const __mmask16 tail = __mmask16((1u << (k - full)) - 1u);
  __m512 acc[R][M];
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < M; ++r) acc[j][r] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; kk += 16) {
    const bool last = kk == full;  // the masked remainder of k
    __m512 wv[R];
    for (int j = 0; j < R; ++j) wv[j] = last ? widen_masked(w + (n + j) * k + kk, tail) : widen(w + (n + j) * k + kk);
    for (int r = 0; r < M; ++r) {
      const __m512 xv = last ? _mm512_maskz_loadu_ps(tail, xf + r * k + kk) : _mm512_loadu_ps(xf + r * k + kk);
      for (int j = 0; j < R; ++j) acc[j][r] = _mm512_fmadd_ps(xv, wv[j], acc[j][r]);
    }
  }
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < M; ++r) out[r * ldo + n + j] = _mm512_reduce_add_ps(acc[j][r]) + (bias ? bias[n + j] : 0.0f);
}

template <int M>
void rows_block(int64_t n0, int64_t n1, int64_t k, const float* xf, const uint16_t* w, const float* bias, float* out,
                int64_t ldo) {
  int64_t n = n0;
  for (; n + 2 <= n1; n += 2) weight_rows<M, 2>(n, k, xf, w, bias, out, ldo);
  if (n < n1) weight_rows<M, 1>(n, k, xf, w, bias, out, ldo);
}

#endif

#if defined(__AVX512BF16__)
// The same with vdpbf16ps: pairs of bf16 products summed in f32, straight from the bf16 rows (no widening,
// half the activation loads). This is the instruction oneDNN's own bf16 kernels use.
template <int M, int R>
inline void weight_rows_dp(int64_t n, int64_t k, const uint16_t* x, const uint16_t* w, const float* bias, float* out,
                           int64_t ldo) {
  const int64_t full = k / 32 * 32;
  const __mmask32 tail = __mmask32((uint64_t(1) << (k - full)) - 1u);
  __m512 acc[R][M];
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < M; ++r) acc[j][r] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < k; kk += 32) {
    const bool last = kk == full;  // the masked remainder of k
    auto load = [&](const uint16_t* p) {
      return last ? (__m512bh)_mm512_maskz_loadu_epi16(tail, p) : (__m512bh)_mm512_loadu_si512(p);
    };
    __m512bh wv[R];
    for (int j = 0; j < R; ++j) {
      // The next weight rows, a cache line each per step: the weights stream from memory, and the
      // hardware prefetcher alone leaves this loop waiting on them.
      _mm_prefetch(reinterpret_cast<const char*>(w + (n + j + R) * k + kk), _MM_HINT_T0);
      wv[j] = load(w + (n + j) * k + kk);
    }
    for (int r = 0; r < M; ++r) {
      const __m512bh xv = load(x + r * k + kk);
      for (int j = 0; j < R; ++j) acc[j][r] = _mm512_dpbf16_ps(acc[j][r], xv, wv[j]);
    }
  }
  for (int j = 0; j < R; ++j)
    for (int r = 0; r < M; ++r) out[r * ldo + n + j] = _mm512_reduce_add_ps(acc[j][r]) + (bias ? bias[n + j] : 0.0f);
}

template <int M>
void rows_block_dp(int64_t n0, int64_t n1, int64_t k, const uint16_t* x, const uint16_t* w, const float* bias,
                   float* out, int64_t ldo) {
  int64_t n = n0;
  for (; n + 2 <= n1; n += 2) weight_rows_dp<M, 2>(n, k, x, w, bias, out, ldo);
  if (n < n1) weight_rows_dp<M, 1>(n, k, x, w, bias, out, ldo);
}
#endif

// Blocks of 64 weight rows per task: the activations (M x k) stay in L1/L2 while the weights stream.
template <typename Block>
void over_blocks(int64_t n, int64_t k, int64_t m, Block&& block_rows) {
  constexpr int64_t block = 64;
  const int64_t blocks = (n + block - 1) / block;
  parallel_for(blocks, block * k * m, [&](int64_t b) { block_rows(b * block, std::min(n, (b + 1) * block)); });
}

template <int M>
void run(int64_t n, int64_t k, const uint16_t* x, const uint16_t* w, const float* bias, float* out, int64_t ldo) {
#if defined(__AVX512BF16__)
  over_blocks(n, k, M, [&](int64_t n0, int64_t n1) { rows_block_dp<M>(n0, n1, k, x, w, bias, out, ldo); });
#else
  // The activations widened once (they are bf16-rounded already): M x k floats, small.
  thread_local std::vector<float> widened;
  widened.resize(size_t(M * k));
  for (int64_t i = 0; i < M * k; ++i) {
    const uint32_t bits = uint32_t(x[i]) << 16;
    std::memcpy(&widened[size_t(i)], &bits, sizeof bits);
  }
  const float* xf = widened.data();
  over_blocks(n, k, M, [&](int64_t n0, int64_t n1) { rows_block<M>(n0, n1, k, xf, w, bias, out, ldo); });
#endif
}

}  // namespace

bool small_m_gemm_applies(int64_t m) { return m >= 2 && m <= kSmallGemmMaxRows; }

void small_m_gemm_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* x, const uint16_t* w, const float* bias,
                       float* out, int64_t ldo) {
  switch (m) {
    case 2: return run<2>(n, k, x, w, bias, out, ldo);
    case 3: return run<3>(n, k, x, w, bias, out, ldo);
    case 4: return run<4>(n, k, x, w, bias, out, ldo);
    case 5: return run<5>(n, k, x, w, bias, out, ldo);
    case 6: return run<6>(n, k, x, w, bias, out, ldo);
    case 7: return run<7>(n, k, x, w, bias, out, ldo);
    default: return run<8>(n, k, x, w, bias, out, ldo);
  }
}

#else

bool small_m_gemm_applies(int64_t) { return false; }
void small_m_gemm_bf16(int64_t, int64_t, int64_t, const uint16_t*, const uint16_t*, const float*, float*, int64_t) {}

#endif

}  // namespace vlm::cpu
