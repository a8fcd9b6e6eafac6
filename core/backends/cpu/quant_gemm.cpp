#include "quant_gemm.hpp"

#include <algorithm>
#include <vector>

#include <omp.h>

#include "avx512_util.hpp"
#include "checks.hpp"
#include "float_convert.hpp"
#include "parallel.hpp"
#include "vlm/tensor/quantized.hpp"

namespace vlm::cpu {

#if defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)

namespace {

constexpr int64_t kBlock = kQuantGroup;  // activation block = Q4 group = one 64-byte vector of int8

// The activations of one call, quantised per block of 64 values.
struct QuantizedRows {
  int64_t k = 0, blocks = 0;
  int8_t* values = nullptr;       // [m, k] q = round(x / scale), in [-127, 127]
  uint8_t* magnitudes = nullptr;  // [m, k] |q|: vpdpbusd's unsigned operand against signed Q8 weights
  uint64_t* negative = nullptr;   // [m, blocks] bit i: q < 0 (the sign moves onto the weight instead)
  float* scales = nullptr;        // [m, blocks]
  int32_t* offsets = nullptr;     // [m, blocks, 16] lane 0 = -8 * sum(q), others 0: Q4's zero point
};

QuantizedRows quantize_activations(int64_t m, int64_t k, const float* x, ScratchBuffer& scratch) {
  QuantizedRows q;
  q.k = k;
  q.blocks = k / kBlock;
  const auto rb = size_t(m * q.blocks);
  auto* base = scratch.get<uint8_t>(size_t(m * k) * 2 + rb * (8 + 4 + 64) + 64);
  // Offsets first: they are read as aligned 64-byte vectors.
  q.offsets = reinterpret_cast<int32_t*>(base);
  q.negative = reinterpret_cast<uint64_t*>(base + rb * 64);
  q.scales = reinterpret_cast<float*>(base + rb * 72);
  q.values = reinterpret_cast<int8_t*>(base + rb * 76);
  q.magnitudes = reinterpret_cast<uint8_t*>(q.values + m * k);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t b = 0; b < q.blocks; ++b) {
      const float* v = x + r * k + b * kBlock;
      __m512 part[4];
      __m512 amax = _mm512_setzero_ps();
      for (int j = 0; j < 4; ++j) {
        part[j] = _mm512_loadu_ps(v + 16 * j);
        amax = _mm512_max_ps(amax, _mm512_abs_ps(part[j]));
      }
      float lanes[16];
      _mm512_storeu_ps(lanes, amax);
      const float max = *std::max_element(lanes, lanes + 16);
      const float inverse = max > 0.0f ? 127.0f / max : 0.0f;
      const int64_t at = r * q.blocks + b;
      q.scales[at] = max / 127.0f;
      __m512i sum = _mm512_setzero_si512();
      int8_t* out = q.values + r * k + b * kBlock;
      for (int j = 0; j < 4; ++j) {
        const __m512i levels = _mm512_cvtps_epi32(_mm512_mul_ps(part[j], _mm512_set1_ps(inverse)));  // nearest even
        sum = _mm512_add_epi32(sum, levels);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * j), _mm512_cvtepi32_epi8(levels));
      }
      const __m512i bytes = _mm512_loadu_si512(out);
      q.negative[at] = _mm512_movepi8_mask(bytes);
      _mm512_storeu_si512(q.magnitudes + r * k + b * kBlock, _mm512_abs_epi8(bytes));
      int32_t sums[16];
      _mm512_storeu_si512(sums, sum);
      int32_t total = 0;
      for (const int32_t s : sums) total += s;
      int32_t* offset = q.offsets + at * 16;
      std::fill_n(offset, 16, 0);
      offset[0] = -8 * total;
    }
  return q;
}

constexpr int tile_cols(int rows) { return rows == 1 ? 8 : rows <= 4 ? 4 : 2; }

void store_tile(const __m512* acc, int rows, int cols, const float* weight_scales, const float* bias, float* out,
                int64_t ldo) {
  float sums[16];
  horizontal_sums(acc, rows * cols, sums);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float s = sums[r * cols + c];
      out[r * ldo + c] = (weight_scales ? s * weight_scales[c] : s) + (bias ? bias[c] : 0.0f);
    }
}

// R activation rows x C weight rows of Q8 weights w (rows of k int8, scales per row).
template <int R, int C>
void q8_tile(const QuantizedRows& x, const int8_t* w, const float* weight_scales, const float* bias, float* out,
             int64_t ldo) {
  const int64_t k = x.k;
  __m512 acc[R * C];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < x.blocks; ++b) {
    __m512i wv[C];
    for (int c = 0; c < C; ++c) {
      // The next tile's rows, into L2: decode streams the weights from memory, and an L1 prefetch (T0) of
      // the same lines reaches ~25 GB/s where this reaches ~36-42 (K=1536 N=8960, 2 threads).
      _mm_prefetch(reinterpret_cast<const char*>(w + (c + C) * k + b * kBlock), _MM_HINT_T1);
      wv[c] = _mm512_loadu_si512(w + c * k + b * kBlock);
    }
    for (int r = 0; r < R; ++r) {
      const __m512i magnitude = _mm512_loadu_si512(x.magnitudes + r * k + b * kBlock);
      const __mmask64 negative = x.negative[r * x.blocks + b];
      const __m512 scale = _mm512_set1_ps(x.scales[r * x.blocks + b]);
      for (int c = 0; c < C; ++c) {
        // |q| * (sign(q) * w) = q * w; |q| <= 127 and |w| <= 127, so no lane overflows.
        const __m512i signed_w = _mm512_mask_sub_epi8(wv[c], negative, zero, wv[c]);
        const __m512i dot = _mm512_dpbusd_epi32(zero, magnitude, signed_w);
        acc[r * C + c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc[r * C + c]);
      }
    }
  }
  store_tile(acc, R, C, weight_scales, bias, out, ldo);
}

// R activation rows x C weight rows of Q4 weights (per row `blocks` groups of 32 bytes; bf16 scales).
template <int R, int C>
void q4_tile(const QuantizedRows& x, const uint8_t* w, const uint16_t* weight_scales, const float* bias, float* out,
             int64_t ldo) {
  const int64_t k = x.k, blocks = x.blocks, row_bytes = blocks * 32;
  __m512 acc[R * C];
  for (auto& a : acc) a = _mm512_setzero_ps();
  const __m512i low_nibble = _mm512_set1_epi8(0x0F);
  alignas(64) float combined[R * C][16];  // weight scale x activation scale for 16 groups
  for (int64_t b0 = 0; b0 < blocks; b0 += 16) {
    const int count = int(std::min<int64_t>(16, blocks - b0));
    const __mmask16 lanes = __mmask16((1u << count) - 1);
    for (int c = 0; c < C; ++c) {
      const __m512 ws = _mm512_castsi512_ps(_mm512_slli_epi32(
          _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, weight_scales + c * blocks + b0)), 16));
      for (int r = 0; r < R; ++r)
        _mm512_store_ps(combined[r * C + c],
                        _mm512_mul_ps(ws, _mm512_maskz_loadu_ps(lanes, x.scales + r * blocks + b0)));
    }
    for (int j = 0; j < count; ++j) {
      const int64_t b = b0 + j;
      __m512i wv[C];
      for (int c = 0; c < C; ++c) {
        const uint8_t* group = w + c * row_bytes + b * 32;
        // Two tiles ahead (one 64-byte line per two groups): 3-5% more than one tile when streaming.
        if ((b & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(group + 2 * C * row_bytes), _MM_HINT_T1);
        // Bytes 0-31 low nibbles (values 0-31), bytes 32-63 high nibbles (values 32-63): the natural order.
        const __m512i raw = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(group)));
        wv[c] = _mm512_and_si512(_mm512_mask_srli_epi16(raw, __mmask32(0xFFFF0000u), raw, 4), low_nibble);
      }
      for (int r = 0; r < R; ++r) {
        const __m512i values = _mm512_loadu_si512(x.values + r * k + b * kBlock);
        // Starting from -8 * sum(q) makes the lane total sum((u - 8) * q).
        const __m512i offset = _mm512_load_si512(x.offsets + (r * blocks + b) * 16);
        for (int c = 0; c < C; ++c) {
          const __m512i dot = _mm512_dpbusd_epi32(offset, wv[c], values);
          acc[r * C + c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(combined[r * C + c][j]),
                                           acc[r * C + c]);
        }
      }
    }
  }
  store_tile(acc, R, C, nullptr, bias, out, ldo);
}

template <int R>
void strip(const QuantizedRows& x, const Tensor& w, int64_t n0, int64_t n1, const float* bias, float* out,
           int64_t ldo) {
  constexpr int C = tile_cols(R);
  const int64_t k = x.k;
  int64_t n = n0;
  const auto b = [&](int64_t at) { return bias ? bias + at : nullptr; };
  if (w.dtype() == DType::Q8) {
    const Q8Planes p = q8_planes(w);
    for (; n + C <= n1; n += C) q8_tile<R, C>(x, p.values + n * k, p.scales + n, b(n), out + n, ldo);
    for (; n < n1; ++n) q8_tile<R, 1>(x, p.values + n * k, p.scales + n, b(n), out + n, ldo);
  } else {
    const Q4Planes p = q4_planes(w);
    const int64_t row_bytes = x.blocks * 32;
    for (; n + C <= n1; n += C)
      q4_tile<R, C>(x, p.packed + n * row_bytes, p.scales + n * x.blocks, b(n), out + n, ldo);
    for (; n < n1; ++n) q4_tile<R, 1>(x, p.packed + n * row_bytes, p.scales + n * x.blocks, b(n), out + n, ldo);
  }
}

void strip_of(int rows, const QuantizedRows& x, const Tensor& w, int64_t n0, int64_t n1, const float* bias,
              float* out, int64_t ldo) {
  switch (rows) {
    case 1: return strip<1>(x, w, n0, n1, bias, out, ldo);
    case 2: return strip<2>(x, w, n0, n1, bias, out, ldo);
    case 3: return strip<3>(x, w, n0, n1, bias, out, ldo);
    case 4: return strip<4>(x, w, n0, n1, bias, out, ldo);
    case 5: return strip<5>(x, w, n0, n1, bias, out, ldo);
    case 6: return strip<6>(x, w, n0, n1, bias, out, ldo);
    case 7: return strip<7>(x, w, n0, n1, bias, out, ldo);
    default: return strip<8>(x, w, n0, n1, bias, out, ldo);
  }
}

}  // namespace

bool quant_gemm_available() { return true; }

void quant_gemm(int64_t m, const float* x, const Tensor& w, const float* bias, float* out, int64_t ldo,
                ScratchBuffer& scratch) {
  const int64_t n = w.dim(0), k = w.dim(1);
  check(m >= 1 && m <= kQuantGemmMaxRows, "matmul", "the int8 kernel takes 1-{} rows, got {}", kQuantGemmMaxRows, m);
  check(k % kBlock == 0, "matmul", "quantised K = {} is not a multiple of {}", k, kBlock);
  const QuantizedRows q = quantize_activations(m, k, x, scratch);
  const bool parallel = double(n) * double(k) >= 1 << 16;
#pragma omp parallel if (parallel)
  {
    // Contiguous ranges of whole tiles per thread: each thread streams only its own weight rows.
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t tiles = (n + 7) / 8;
    const int64_t begin = std::min(n, tiles * t / threads * 8), end = std::min(n, tiles * (t + 1) / threads * 8);
    if (begin < end) strip_of(int(m), q, w, begin, end, bias, out, ldo);
  }
}

namespace {

inline void store16(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
#if defined(__AVX512BF16__)
// Round to nearest even, as from_f32 does (input and output subnormals become zero).
inline void store16(uint16_t* p, __m512 v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), (__m256i)_mm512_cvtneps_pbh(v));
}
#endif

// One row of a Q8 / Q4 matrix widened into f32 or (with AVX-512-BF16) bf16, straight from the packed values.
template <typename Out>
void dequantize_row(const Tensor& w, int64_t row, Out* dst) {
  const int64_t k = w.dim(1);
  if (w.dtype() == DType::Q8) {
    const Q8Planes p = q8_planes(w);
    const __m512 scale = _mm512_set1_ps(p.scales[row]);
    const int8_t* src = p.values + row * k;
    for (int64_t i = 0; i < k; i += 16)
      store16(dst + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)))),
                                     scale));
    return;
  }
  const Q4Planes p = q4_planes(w);
  const int64_t groups = k / kQuantGroup;
  const __m128i low_nibble = _mm_set1_epi8(0x0F);
  const __m512i eight = _mm512_set1_epi32(8);
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* group = p.packed + (row * groups + g) * 32;
    const __m512 d = _mm512_set1_ps(bf16_to_f32(p.scales[row * groups + g]));
    for (int half = 0; half < 2; ++half) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group + 16 * half));
      const __m128i nibbles[2] = {_mm_and_si128(raw, low_nibble), _mm_and_si128(_mm_srli_epi16(raw, 4), low_nibble)};
      for (int high = 0; high < 2; ++high) {
        const __m512i v = _mm512_sub_epi32(_mm512_cvtepu8_epi32(nibbles[high]), eight);
        store16(dst + g * kQuantGroup + high * 32 + half * 16, _mm512_mul_ps(_mm512_cvtepi32_ps(v), d));
      }
    }
  }
}

}  // namespace

void dequantize_block(const Tensor& w, int64_t row0, int64_t rows, DType to, void* dst) {
  const int64_t k = w.dim(1);
  parallel_for(rows, k, [&](int64_t r) {
    if (to == DType::F32) return dequantize_row(w, row0 + r, static_cast<float*>(dst) + r * k);
#if defined(__AVX512BF16__)
    dequantize_row(w, row0 + r, static_cast<uint16_t*>(dst) + r * k);
#else
    thread_local std::vector<float> row;
    row.resize(size_t(k));
    dequantize_row(w, row0 + r, row.data());
    from_f32(row.data(), DType::BF16, static_cast<uint16_t*>(dst) + r * k, k);
#endif
  });
}

#else  // no AVX-512-VNNI: quantised matmuls dequantise blocks for oneDNN

bool quant_gemm_available() { return false; }
void quant_gemm(int64_t, const float*, const Tensor&, const float*, float*, int64_t, ScratchBuffer&) {
  fail("matmul: this build has no AVX-512-VNNI kernels (quant_gemm_available says so)");
}

void dequantize_block(const Tensor& w, int64_t row0, int64_t rows, DType to, void* dst) {
  const int64_t k = w.dim(1);
  parallel_for(rows, k, [&](int64_t r) {
    thread_local std::vector<float> row;
    row.resize(size_t(k));
    dequantize_rows(w, row0 + r, 1, to == DType::F32 ? static_cast<float*>(dst) + r * k : row.data());
    if (to != DType::F32) from_f32(row.data(), DType::BF16, static_cast<uint16_t*>(dst) + r * k, k);
  });
}

#endif

}  // namespace vlm::cpu
