#include "dot_gemm.hpp"

#include <algorithm>

#include <omp.h>

#include "checks.hpp"

#include "avx512_util.hpp"

namespace vlm::cpu {

#if defined(__AVX512F__)

namespace {

constexpr int kTileRows = 8;  // activation rows per tile
constexpr int kTileCols = 2;  // weight rows per tile of 8 rows: 16 accumulators, one reduction tree

// Fewer activation rows take more weight rows per tile, so at least 8 independent accumulators hide the
// multiply-add latency (decode: 1 row x 8 weight rows).
constexpr int tile_cols(int rows) { return rows == 1 ? 8 : rows <= 4 ? 4 : kTileCols; }

// Loads and the multiply-add of each kind; `kStep` k values per vector.
template <DotKind Kind> struct Ops;

template <> struct Ops<DotKind::Bf16Widen> {
  using Activation = float;
  static constexpr int kStep = 16;
  static __m512 load_x(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load_x(const float* p, uint32_t mask) { return _mm512_maskz_loadu_ps(__mmask16(mask), p); }
  // bf16 is the top half of an f32: widening is exact.
  static __m512 load_w(const uint16_t* p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
  static __m512 load_w(const uint16_t* p, uint32_t mask) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(__mmask16(mask), p)), 16));
  }
  static __m512 madd(__m512 acc, __m512 x, __m512 w) { return _mm512_fmadd_ps(x, w, acc); }
};

template <> struct Ops<DotKind::F16Widen> : Ops<DotKind::Bf16Widen> {
  using Ops<DotKind::Bf16Widen>::load_x;
  static __m512 load_w(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load_w(const uint16_t* p, uint32_t mask) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(__mmask16(mask), p)); }
};

#if defined(__AVX512BF16__)
template <> struct Ops<DotKind::Bf16Dot> {
  using Activation = uint16_t;
  static constexpr int kStep = 32;
  static __m512i load_x(const uint16_t* p) { return _mm512_loadu_si512(p); }
  static __m512i load_x(const uint16_t* p, uint32_t mask) { return _mm512_maskz_loadu_epi16(__mmask32(mask), p); }
  static __m512i load_w(const uint16_t* p) { return _mm512_loadu_si512(p); }
  static __m512i load_w(const uint16_t* p, uint32_t mask) { return _mm512_maskz_loadu_epi16(__mmask32(mask), p); }
  // Pairs of bf16 products summed in f32.
  static __m512 madd(__m512 acc, __m512i x, __m512i w) { return _mm512_dpbf16_ps(acc, (__m512bh)x, (__m512bh)w); }
};
#endif

// R activation rows x C weight rows over kc values of k, starting at x / w (row strides ldx / ldw).
// Writes (accumulate ? out + : out =) the sums, plus bias on the first k block.
template <DotKind Kind, int R, int C>
inline void tile(int64_t kc, const typename Ops<Kind>::Activation* x, int64_t ldx, const uint16_t* w, int64_t ldw,
                 const float* bias, float* out, int64_t ldo, bool accumulate) {
  using O = Ops<Kind>;
  constexpr int step = O::kStep;
  const int64_t full = kc / step * step;
  __m512 acc[R * C];
  for (int i = 0; i < R * C; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < full; kk += step) {
    decltype(O::load_w(w)) wv[C];
    for (int c = 0; c < C; ++c) {
      // The next tile's weight rows: when they stream from memory (decode) the hardware prefetcher alone
      // leaves this loop waiting on them.
      _mm_prefetch(reinterpret_cast<const char*>(w + (c + C) * ldw + kk), _MM_HINT_T0);
      wv[c] = O::load_w(w + c * ldw + kk);
    }
    for (int r = 0; r < R; ++r) {
      const auto xv = O::load_x(x + r * ldx + kk);
      for (int c = 0; c < C; ++c) acc[r * C + c] = O::madd(acc[r * C + c], xv, wv[c]);
    }
  }
  if (full < kc) {  // the masked remainder of k
    const uint32_t mask = uint32_t((uint64_t(1) << (kc - full)) - 1);
    decltype(O::load_w(w)) wv[C];
    for (int c = 0; c < C; ++c) wv[c] = O::load_w(w + c * ldw + full, mask);
    for (int r = 0; r < R; ++r) {
      const auto xv = O::load_x(x + r * ldx + full, mask);
      for (int c = 0; c < C; ++c) acc[r * C + c] = O::madd(acc[r * C + c], xv, wv[c]);
    }
  }
  // Sum e is tile element e (row-major r * C + c).
  static_assert(R * C <= 16);
  float sums[16];
  horizontal_sums(acc, R * C, sums);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float& o = out[r * ldo + c];
      const float s = sums[r * C + c];
      o = accumulate ? o + s : s + (bias ? bias[c] : 0.0f);
    }
}

// R rows of activations against weight rows [n0, n1), k values [k0, k0 + kc).
template <DotKind Kind, int R>
void strip(int64_t n0, int64_t n1, int64_t k0, int64_t kc, const typename Ops<Kind>::Activation* x, int64_t k,
           const uint16_t* w, const float* bias, float* out, int64_t ldo, bool accumulate) {
  constexpr int C = tile_cols(R);
  int64_t n = n0;
  for (; n + C <= n1; n += C)
    tile<Kind, R, C>(kc, x + k0, k, w + n * k + k0, k, bias ? bias + n : nullptr, out + n, ldo, accumulate);
  for (; n < n1; ++n)
    tile<Kind, R, 1>(kc, x + k0, k, w + n * k + k0, k, bias ? bias + n : nullptr, out + n, ldo, accumulate);
}

template <DotKind Kind>
void strip_of(int rows, int64_t n0, int64_t n1, int64_t k0, int64_t kc, const typename Ops<Kind>::Activation* x,
              int64_t k, const uint16_t* w, const float* bias, float* out, int64_t ldo, bool accumulate) {
  switch (rows) {
    case 1: return strip<Kind, 1>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 2: return strip<Kind, 2>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 3: return strip<Kind, 3>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 4: return strip<Kind, 4>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 5: return strip<Kind, 5>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 6: return strip<Kind, 6>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    case 7: return strip<Kind, 7>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
    default: return strip<Kind, 8>(n0, n1, k0, kc, x, k, w, bias, out, ldo, accumulate);
  }
}

template <DotKind Kind>
void run(int64_t m, int64_t n, int64_t k, const typename Ops<Kind>::Activation* x, const uint16_t* w,
         const float* bias, float* out, int64_t ldo) {
  // k blocks keep a strip of 8 activation rows in L1 (16 KiB of bf16 or f32); a block of weight rows
  // (~256 KiB) stays in L2 while every strip passes over it. Decode (one strip) needs no k blocks.
  const int64_t k_block = m <= kTileRows ? k : 16384 / int64_t(sizeof(typename Ops<Kind>::Activation)) / kTileRows;
  const int64_t n_block = std::max<int64_t>(8, 262144 / (std::min(k, k_block) * 2) / 8 * 8);  // whole tiles
  const bool parallel = double(m) * double(n) * double(k) >= 1 << 18;
#pragma omp parallel if (parallel)
  {
    // Contiguous ranges of whole tiles per thread: each thread reads only its own weight rows.
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t tiles = (n + 7) / 8;  // 8: a multiple of every tile width
    const int64_t begin = std::min(n, tiles * t / threads * 8);
    const int64_t end = std::min(n, tiles * (t + 1) / threads * 8);
    for (int64_t nb = begin; nb < end; nb += n_block) {
      const int64_t nb_end = std::min(end, nb + n_block);
      for (int64_t k0 = 0; k0 < k; k0 += k_block) {
        const int64_t kc = std::min(k_block, k - k0);
        for (int64_t m0 = 0; m0 < m; m0 += kTileRows)
          strip_of<Kind>(int(std::min<int64_t>(kTileRows, m - m0)), nb, nb_end, k0, kc, x + m0 * k, k, w, bias,
                         out + m0 * ldo, ldo, k0 > 0);
      }
    }
  }
}

}  // namespace

bool dot_gemm_available(DotKind kind) {
#if defined(__AVX512BF16__)
  (void)kind;
  return true;
#else
  return kind != DotKind::Bf16Dot;
#endif
}

void dot_gemm(DotKind kind, int64_t m, int64_t n, int64_t k, const void* x, const uint16_t* w, const float* bias,
              float* out, int64_t ldo) {
  switch (kind) {
    case DotKind::Bf16Dot:
#if defined(__AVX512BF16__)
      return run<DotKind::Bf16Dot>(m, n, k, static_cast<const uint16_t*>(x), w, bias, out, ldo);
#else
      fail("matmul: this build has no AVX-512-BF16 kernels (dot_gemm_available says so)");
#endif
    case DotKind::Bf16Widen: return run<DotKind::Bf16Widen>(m, n, k, static_cast<const float*>(x), w, bias, out, ldo);
    case DotKind::F16Widen: return run<DotKind::F16Widen>(m, n, k, static_cast<const float*>(x), w, bias, out, ldo);
  }
}

#else  // no AVX-512: the caller uses oneDNN

bool dot_gemm_available(DotKind) { return false; }
void dot_gemm(DotKind, int64_t, int64_t, int64_t, const void*, const uint16_t*, const float*, float*, int64_t) {
  fail("matmul: this build has no AVX-512 kernels (dot_gemm_available says so)");
}

#endif

}  // namespace vlm::cpu
