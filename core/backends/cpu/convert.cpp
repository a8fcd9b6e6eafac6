// Float conversions (shared by every op that reads bf16/f16 weights) and the convert op.
#include <bit>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "float_convert.hpp"
#include "parallel.hpp"

namespace vlm::cpu {
namespace {

// Branch-free forms of vlm::bf16_to_f32 / f32_to_bf16 so the compiler vectorises the loops.
void bf16_to_f32_n(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = std::bit_cast<float>(uint32_t(src[i]) << 16);
}

void f32_to_bf16_n(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(src[i]);
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const uint32_t quiet_nan = (bits >> 16) | 0x40u;
    dst[i] = uint16_t((bits & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
  }
}

}  // namespace

void round_to_bf16(const float* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(src[i]);
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
    const uint32_t quiet_nan = (bits & 0xffff0000u) | 0x400000u;
    dst[i] = std::bit_cast<float>((bits & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
  }
}

namespace {

// F16C converts exactly like vlm::f16_to_f32 / f32_to_f16 (IEEE, round-to-nearest-even, subnormals
// kept); only NaN payloads may differ, and a NaN stays a NaN.
void f16_to_f32_n(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void f32_to_f16_n(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
  for (; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

template <typename From, typename To>
void cast_n(const From* src, To* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = To(src[i]);
}

template <typename Int>
void int_to_f32_n(const void* src, float* dst, int64_t n) {
  cast_n(static_cast<const Int*>(src), dst, n);
}

void int_to_f32(DType src_dtype, const void* src, float* dst, int64_t n) {
  switch (src_dtype) {
    case DType::I32: return int_to_f32_n<int32_t>(src, dst, n);
    case DType::I64: return int_to_f32_n<int64_t>(src, dst, n);
    case DType::U8: return int_to_f32_n<uint8_t>(src, dst, n);
    default: fail("convert: {} is not an integer dtype", dtype_name(src_dtype));
  }
}

template <typename From>
void int_to_int(const void* src, DType dst_dtype, void* dst, int64_t n) {
  const auto* s = static_cast<const From*>(src);
  switch (dst_dtype) {
    case DType::I32: return cast_n(s, static_cast<int32_t*>(dst), n);
    case DType::I64: return cast_n(s, static_cast<int64_t*>(dst), n);
    case DType::U8: return cast_n(s, static_cast<uint8_t*>(dst), n);
    default: fail("convert: {} is not an integer dtype", dtype_name(dst_dtype));
  }
}

bool is_integer(DType t) { return t == DType::I32 || t == DType::I64 || t == DType::U8; }

}  // namespace

void to_f32(DType src_dtype, const void* src, float* dst, int64_t n) {
  switch (src_dtype) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return;
    case DType::BF16: return bf16_to_f32_n(static_cast<const uint16_t*>(src), dst, n);
    case DType::F16: return f16_to_f32_n(static_cast<const uint16_t*>(src), dst, n);
    default: fail("to_f32: {} is not a float dtype", dtype_name(src_dtype));
  }
}

void from_f32(const float* src, DType dst_dtype, void* dst, int64_t n) {
  switch (dst_dtype) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return;
    case DType::BF16: return f32_to_bf16_n(src, static_cast<uint16_t*>(dst), n);
    case DType::F16: return f32_to_f16_n(src, static_cast<uint16_t*>(dst), n);
    default: fail("from_f32: {} is not a float dtype", dtype_name(dst_dtype));
  }
}

void convert(const Tensor& x, Tensor& out) {
  constexpr std::string_view op = "convert";
  check_tensor(op, "x", x, kAnyDType);
  check_tensor(op, "out", out, kAnyDType);
  check_same_shape(op, "x", x, "out", out);
  const DType from = x.dtype(), to = out.dtype();
  check(is_float(to) || is_integer(from), op, "float to integer conversion is not supported ({} -> {})",
        describe_tensor("x", x), describe_tensor("out", out));

  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const size_t in_size = dtype_size(from), out_size = dtype_size(to);
  if (from == to) {
    if (src != dst) std::memcpy(dst, src, x.nbytes());
    return;
  }
  // Chunks small enough that a float staging buffer stays in L1 when neither side is f32.
  constexpr int64_t kChunk = 2048;
  parallel_chunks(x.numel(), kChunk, [&](int64_t begin, int64_t end) {
    const int64_t n = end - begin;
    const void* s = src + size_t(begin) * in_size;
    void* d = dst + size_t(begin) * out_size;
    if (is_integer(from) && is_integer(to)) {
      switch (from) {
        case DType::I32: return int_to_int<int32_t>(s, to, d, n);
        case DType::I64: return int_to_int<int64_t>(s, to, d, n);
        default: return int_to_int<uint8_t>(s, to, d, n);
      }
    }
    if (to == DType::F32) {
      if (is_integer(from)) return int_to_f32(from, s, static_cast<float*>(d), n);
      return to_f32(from, s, static_cast<float*>(d), n);
    }
    if (from == DType::F32) return from_f32(static_cast<const float*>(s), to, d, n);
    float staging[kChunk];
    if (is_integer(from)) int_to_f32(from, s, staging, n);
    else to_f32(from, s, staging, n);
    from_f32(staging, to, d, n);
  });
}

}  // namespace vlm::cpu
