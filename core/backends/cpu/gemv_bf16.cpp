#include "gemv_bf16.hpp"

#include <immintrin.h>

#include "parallel.hpp"

namespace vlm::cpu {
namespace {

// Compiled for AVX512-BF16 whatever the build flags; only called after the runtime check.
#define VLM_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

VLM_BF16_TARGET inline __m512bh load_bf16(const uint16_t* p, __mmask32 mask) {
  return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
}

// Sum of the 16 lanes, once per output. (The shuffle-based _mm512_reduce_add_ps and 512->256 casts trip
// a false -Wmaybe-uninitialized in GCC 12's headers; a store costs nothing next to K/32 dot steps.)
VLM_BF16_TARGET inline float horizontal_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

// Rows [n_begin, n_end) of y, four weight rows at a time so four independent accumulator chains share
// each load of x.
VLM_BF16_TARGET void gemv_rows(const uint16_t* x, const uint16_t* w, const float* bias, float* y, int64_t n_begin,
                               int64_t n_end, int64_t k_size) {
  const int64_t k_full = k_size / 32 * 32;
  const __mmask32 tail = __mmask32((1ull << (k_size - k_full)) - 1);
  int64_t n = n_begin;
  for (; n + 4 <= n_end; n += 4) {
    const uint16_t* w0 = w + n * k_size;
    const uint16_t* w1 = w0 + k_size;
    const uint16_t* w2 = w1 + k_size;
    const uint16_t* w3 = w2 + k_size;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < k_size; k += 32) {
      const __mmask32 mask = k < k_full ? __mmask32(~0u) : tail;
      const __m512bh xv = load_bf16(x + k, mask);
      a0 = _mm512_dpbf16_ps(a0, xv, load_bf16(w0 + k, mask));
      a1 = _mm512_dpbf16_ps(a1, xv, load_bf16(w1 + k, mask));
      a2 = _mm512_dpbf16_ps(a2, xv, load_bf16(w2 + k, mask));
      a3 = _mm512_dpbf16_ps(a3, xv, load_bf16(w3 + k, mask));
    }
    y[n] = horizontal_sum(a0);
    y[n + 1] = horizontal_sum(a1);
    y[n + 2] = horizontal_sum(a2);
    y[n + 3] = horizontal_sum(a3);
  }
  for (; n < n_end; ++n) {
    const uint16_t* wn = w + n * k_size;
    __m512 a = _mm512_setzero_ps();
    for (int64_t k = 0; k < k_size; k += 32) {
      const __mmask32 mask = k < k_full ? __mmask32(~0u) : tail;
      a = _mm512_dpbf16_ps(a, load_bf16(x + k, mask), load_bf16(wn + k, mask));
    }
    y[n] = horizontal_sum(a);
  }
  if (bias)
    for (n = n_begin; n < n_end; ++n) y[n] += bias[n];
}

}  // namespace

bool gemv_bf16_supported() {
  static const bool supported = __builtin_cpu_supports("avx512bf16");
  return supported;
}

void gemv_bf16(const uint16_t* x, const uint16_t* w, const float* bias, float* y, int64_t n_size, int64_t k_size) {
  // Chunks of 64 rows: enough work per chunk to hide scheduling, enough chunks to balance the threads.
  constexpr int64_t kRows = 64;
  parallel_for((n_size + kRows - 1) / kRows, kRows * k_size, [&](int64_t chunk) {
    gemv_rows(x, w, bias, y, chunk * kRows, std::min(n_size, (chunk + 1) * kRows), k_size);
  });
}

}  // namespace vlm::cpu
