#pragma once
// Small AVX-512 helpers shared by the own matmul kernels (dot_gemm.cpp, quant_gemm.cpp).
#if defined(__AVX512F__)
#include <immintrin.h>
// GCC 12's AVX-512 headers build undefined vectors from self-initialised locals, which -Wuninitialized
// reports at every inlined use (GCC bug 105593). Nothing here reads an uninitialised value.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace vlm::cpu {

// Sixteen horizontal sums in one vector: lane e holds the sum of v[(e % 4) * 4 + e / 4] (a transposed
// index, undone by the caller's ordering). 15 shuffle-add pairs instead of 16 separate reductions.
inline __m512 reduce16(const __m512* v) {
  __m512 z[8], w[4], s[2];
  for (int i = 0; i < 8; ++i)  // 512 -> 256 bits: each half of z[i] holds 8 partial sums of one vector
    z[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44), _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
  for (int i = 0; i < 4; ++i)  // each 128-bit quarter of w[i] holds 4 partial sums of v[4i + quarter]
    w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(z[2 * i], z[2 * i + 1], 0x88), _mm512_shuffle_f32x4(z[2 * i], z[2 * i + 1], 0xDD));
  for (int i = 0; i < 2; ++i)
    s[i] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0x44), _mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_ps(s[0], s[1], 0x88), _mm512_shuffle_ps(s[0], s[1], 0xDD));
}

// The horizontal sums of up to 16 accumulators, in order: sums[e] = sum of the lanes of acc[e].
inline void horizontal_sums(const __m512* acc, int count, float* sums) {
  __m512 ordered[16];
  for (int e = 0; e < 16; ++e) ordered[(e % 4) * 4 + e / 4] = e < count ? acc[e] : _mm512_setzero_ps();
  _mm512_storeu_ps(sums, reduce16(ordered));
}

}  // namespace vlm::cpu
#endif
