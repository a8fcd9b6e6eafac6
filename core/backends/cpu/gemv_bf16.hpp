#pragma once
// y = x W^T (+ bias) for a single bf16 activation row and bf16 weights in the [N, K] torch layout: the
// decode step of every linear layer. oneDNN 2.6 runs this shape far below memory bandwidth once the
// weight no longer fits in cache (K=1536, N=8960 on this 2-core EPYC: 8 ms in oneDNN, 1.2 ms here), and
// decode is bandwidth-bound, so it gets its own AVX512-BF16 kernel.
#include <cstdint>

namespace vlm::cpu {

// Whether this CPU runs the kernel (AVX512-BF16); otherwise callers use oneDNN.
bool gemv_bf16_supported();

// y[n] = sum_k x[k] * w[n * k_size + k] (+ bias[n]), accumulated in f32, parallel over n.
void gemv_bf16(const uint16_t* x, const uint16_t* w, const float* bias, float* y, int64_t n_size, int64_t k_size);

}  // namespace vlm::cpu
