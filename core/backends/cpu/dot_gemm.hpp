#pragma once
// out[m, n] = dot(x[m, :], w[n, :]) (+ bias[n]) on 16-bit weights stored [n, k] (torch Linear layout), in
// "dot form": every output is a dot product over k, so both operands are read in their own row-major
// layout and nothing is packed or copied per call. Tiles of 8 activation rows x 2 weight rows keep 16
// accumulators busy; a block of weight rows stays in L2 while the activation strips pass over it, and
// k is cut into blocks so a strip stays in L1. Decode (m <= 8) is one strip: one pass over the weights
// serves every row, with software prefetch because it is bound by memory bandwidth.
//
// Kinds (which one runs is chosen by MatmulPath, from what the CPU runs fastest):
//   Bf16Dot:    vdpbf16ps on bf16 activations and bf16 weights (AVX-512-BF16 where it is full rate).
//   Bf16Widen:  bf16 weights widened to f32 in registers, f32 FMAs on f32 activations that were rounded
//               to bf16 (the same products as Bf16Dot, exact in f32; summed in another order). For CPUs
//               whose vdpbf16ps runs at half the f32 FMA rate.
//   F16Widen:   f16 weights widened to f32 in registers (vcvtph2ps), f32 FMAs on f32 activations.
#include <cstdint>

namespace vlm::cpu {

enum class DotKind { Bf16Dot, Bf16Widen, F16Widen };

// Whether the kernels are compiled in (AVX-512) and `kind` can run on this build.
bool dot_gemm_available(DotKind kind);

// x: [m, k] row-major; bf16 bits for Bf16Dot, f32 otherwise. w: [n, k] bf16 or f16 bits. bias: f32 [n]
// or null. out: [m, n] f32 with row stride ldo.
void dot_gemm(DotKind kind, int64_t m, int64_t n, int64_t k, const void* x, const uint16_t* w, const float* bias,
              float* out, int64_t ldo);

}  // namespace vlm::cpu
