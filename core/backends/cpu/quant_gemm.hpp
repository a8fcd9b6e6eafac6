#pragma once
// out[m, n] = x[m, :] . w[n, :] (+ bias[n]) for quantised weights (Q8, Q4: vlm/tensor/quantized.hpp) and
// few activation rows (decode, several sequences decoding), with int8 dot products (AVX-512-VNNI
// vpdpbusd). The activations are quantised to int8 per block of 64 values (scale = block max / 127), as
// llama.cpp quantises them to Q8_0 for its integer dot products; each block's integer sum is scaled by
// the activation and weight scales in f32. One pass over the weights serves every row.
//
// More rows (prefill) go through dequantize_block + oneDNN instead (matmul_onednn.cpp): there the
// weights are reused across many rows, so widening them costs little and the products stay exact.
#include <cstdint>

#include "scratch.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm::cpu {

constexpr int64_t kQuantGemmMaxRows = 8;

// Whether the int8 kernels are compiled in (AVX-512-VNNI).
bool quant_gemm_available();

// x: f32 [m, K] (m <= kQuantGemmMaxRows), w: Q8 or Q4 [N, K], bias: f32 [N] or null, out: [m, N] f32 with
// row stride ldo. `scratch` holds the quantised activations.
void quant_gemm(int64_t m, const float* x, const Tensor& w, const float* bias, float* out, int64_t ldo,
                ScratchBuffer& scratch);

// Rows [row0, row0 + rows) of Q8 / Q4 `w` dequantised into dst [rows, K], f32 or bf16 (`to`).
void dequantize_block(const Tensor& w, int64_t row0, int64_t rows, DType to, void* dst);

}  // namespace vlm::cpu
