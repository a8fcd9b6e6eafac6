#pragma once
// Shared helpers of the CUDA backend tests: getting the backend (or skipping), moving f32 data in and out,
// and comparing against host references.
#include <cstdint>
#include <memory>
#include <vector>

#include "vlm/backend/backend.hpp"

namespace vlm::test {

// The cuda backend, or null after a WARN("SKIPPED: no usable CUDA device: <reason>") (Catch2 v2 has no
// SKIP). Use as `auto backend = cuda_backend_or_skip(); if (!backend) return;`.
std::shared_ptr<Backend> cuda_backend_or_skip();

// Deterministic values uniform in [lo, hi).
std::vector<float> random_values(size_t count, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
// `values` as they read back after a round trip through `dtype` (bf16/f16 rounding; f32 unchanged).
std::vector<float> rounded_through(const std::vector<float>& values, DType dtype);

// A host f32 tensor holding `values`.
Tensor host_tensor(const std::vector<float>& values, const Shape& shape);
// `values` on the device, stored as `dtype`.
Tensor device_tensor(Backend& backend, const std::vector<float>& values, const Shape& shape,
                     DType dtype = DType::F32);
// A device tensor's contents as f32.
std::vector<float> host_values(Backend& backend, const Tensor& t);

// Every |actual - expected| <= atol + rtol * |expected|; reports the worst element otherwise.
void require_close(const std::vector<float>& actual, const std::vector<float>& expected, float atol, float rtol);

}  // namespace vlm::test
