#pragma once
// Weight-only quantised matrices (`--quantize int8|int4`). A quantised matrix is a Tensor of logical shape
// [N, K] (torch Linear layout: N outputs, K inputs) whose storage is two planes, values then scales:
//
//   Q8 (int8, per output channel): int8 q [N, K] row-major, then f32 scale [N].
//        w[n, k] ~ q[n, k] * scale[n], scale = max_k |w[n, k]| / 127, q in [-127, 127].
//   Q4 (int4, groups of 64 along k): per row and group 32 bytes [N, K/64, 32], then bf16 scale [N, K/64].
//        Byte j of a group holds value j in its low nibble and value j + 32 in its high nibble, each as
//        u = q + 8 with q in [-8, 7]: w[n, k] ~ (u - 8) * scale[n, k / 64]. As in llama.cpp's Q4_0, the
//        scale is the value of largest magnitude divided by -8, so that value is exactly representable.
//
// K must be a positive multiple of 64 (both formats; the CPU kernels quantise activations in blocks of
// 64). Rows are not self-contained, so a quantised tensor has no row views.
#include <cstdint>
#include <optional>
#include <string_view>

#include "vlm/tensor/tensor.hpp"

namespace vlm {

enum class Quantization : uint8_t { None, Int8, Int4 };

constexpr int64_t kQuantGroup = 64;  // Q4's group and the K multiple both formats need

// "none" | "int8" | "int4".
std::optional<Quantization> quantization_from_name(std::string_view name);
std::string_view quantization_name(Quantization q);
// Q8 for Int8, Q4 for Int4 (None is an error).
DType quantized_dtype(Quantization q);
// Whether a matrix of this shape can be stored quantised: rank 2, K a positive multiple of 64.
bool can_quantize(const Shape& shape);

// The two planes of a quantised host (or mapped) tensor.
struct Q8Planes {
  const int8_t* values;  // [N, K]
  const float* scales;   // [N]
};
struct Q4Planes {
  const uint8_t* packed;    // [N, K/64, 32]
  const uint16_t* scales;   // bf16 [N, K/64]
};
Q8Planes q8_planes(const Tensor& t);
Q4Planes q4_planes(const Tensor& t);

// A new host tensor holding `w` (host [N, K], any float dtype) quantised. Rows are split over `threads`
// (0 = all cores). Error if the shape cannot be quantised.
Tensor quantize(const Tensor& w, Quantization q, int threads = 0);
// An f32 host copy of a quantised tensor: the weights the quantised matmul multiplies by (reference for
// tests and the fallback path of backends).
Tensor dequantize(const Tensor& q);
// Rows [row0, row0 + rows) of a quantised tensor widened to f32 into `out` ([rows, K] row-major).
void dequantize_rows(const Tensor& q, int64_t row0, int64_t rows, float* out);

}  // namespace vlm
