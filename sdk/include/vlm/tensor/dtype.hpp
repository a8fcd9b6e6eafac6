#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace vlm {

// Q8 and Q4 are quantised weight matrices (vlm/tensor/quantized.hpp): packed values plus scales, so they
// have no per-element size; a tensor's bytes come from storage_bytes().
enum class DType : uint8_t { F32, F16, BF16, I32, I64, U8, Q8, Q4 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::U8: return 1;
    case DType::Q8: case DType::Q4: return 0;  // packed: see storage_bytes
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
    case DType::Q8: return "q8";
    case DType::Q4: return "q4";
  }
  return "?";
}

constexpr bool is_quantized(DType t) { return t == DType::Q8 || t == DType::Q4; }
constexpr bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Names as written in safetensors headers ("F32", "BF16", ...); nullopt for dtypes vlm does not hold.
std::optional<DType> dtype_from_safetensors(std::string_view name);
std::string_view dtype_safetensors_name(DType t);
// "f32" / "bf16" / ... as users type them.
std::optional<DType> dtype_from_name(std::string_view name);

// Scalar conversions (round-to-nearest-even for bf16, IEEE half for f16).
inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}
float f16_to_f32(uint16_t v);
uint16_t f32_to_f16(float f);

}  // namespace vlm
