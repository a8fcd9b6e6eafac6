#include "vlm/tensor/quantized.hpp"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "vlm/util/error.hpp"

namespace vlm {
namespace {

void check_quantized(const Tensor& t, DType want, const char* what) {
  if (!t.defined() || t.dtype() != want || t.rank() != 2 || !t.is_host())
    fail("{}: expected a host {} tensor of rank 2, got {} {} on {}", what, dtype_name(want),
         t.defined() ? dtype_name(t.dtype()) : "undefined", t.shape().str(), device_name(t.device()));
}

// Row `n` of a float matrix as f32.
void row_f32(const Tensor& w, int64_t n, float* out) {
  const int64_t k = w.dim(1);
  const auto* base = static_cast<const uint8_t*>(w.raw()) + size_t(n * k) * dtype_size(w.dtype());
  switch (w.dtype()) {
    case DType::F32: std::copy_n(reinterpret_cast<const float*>(base), k, out); return;
    case DType::BF16:
      for (int64_t i = 0; i < k; ++i) out[i] = bf16_to_f32(reinterpret_cast<const uint16_t*>(base)[i]);
      return;
    case DType::F16:
      for (int64_t i = 0; i < k; ++i) out[i] = f16_to_f32(reinterpret_cast<const uint16_t*>(base)[i]);
      return;
    default: fail("quantize: weights must be f32, bf16 or f16, got {}", dtype_name(w.dtype()));
  }
}

void quantize_row_q8(const float* w, int64_t k, int8_t* q, float* scale) {
  float amax = 0.0f;
  for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(w[i]));
  const float s = amax / 127.0f;
  *scale = s;
  for (int64_t i = 0; i < k; ++i)
    q[i] = s > 0.0f ? int8_t(std::clamp(std::nearbyint(w[i] / s), -127.0f, 127.0f)) : int8_t(0);
}

void quantize_row_q4(const float* w, int64_t k, uint8_t* packed, uint16_t* scales) {
  for (int64_t g = 0; g < k / kQuantGroup; ++g) {
    const float* v = w + g * kQuantGroup;
    float extreme = 0.0f;  // the value of largest magnitude, with its sign
    for (int64_t i = 0; i < kQuantGroup; ++i)
      if (std::fabs(v[i]) > std::fabs(extreme)) extreme = v[i];
    // Quantise against the scale as stored (bf16), so dequantising reproduces the rounding decisions.
    scales[g] = f32_to_bf16(extreme / -8.0f);
    const float d = bf16_to_f32(scales[g]);
    uint8_t* out = packed + g * 32;
    auto level = [&](float x) {
      const float q = d != 0.0f ? std::clamp(std::nearbyint(x / d), -8.0f, 7.0f) : 0.0f;
      return uint8_t(int(q) + 8);
    };
    for (int j = 0; j < 32; ++j) out[j] = uint8_t(level(v[j]) | level(v[j + 32]) << 4);
  }
}

template <typename Body>
void for_rows(int64_t rows, int threads, Body&& body) {
  const int64_t wanted = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  const int64_t workers = std::clamp<int64_t>(rows / 64, 1, wanted);
  if (workers == 1) return body(0, rows);
  std::vector<std::jthread> pool;
  for (int64_t t = 0; t < workers; ++t)
    pool.emplace_back([&, t] { body(rows * t / workers, rows * (t + 1) / workers); });
}

}  // namespace

std::optional<Quantization> quantization_from_name(std::string_view name) {
  if (name == "none") return Quantization::None;
  if (name == "int8") return Quantization::Int8;
  if (name == "int4") return Quantization::Int4;
  return std::nullopt;
}

std::string_view quantization_name(Quantization q) {
  switch (q) {
    case Quantization::None: return "none";
    case Quantization::Int8: return "int8";
    case Quantization::Int4: return "int4";
  }
  return "?";
}

DType quantized_dtype(Quantization q) {
  if (q == Quantization::Int8) return DType::Q8;
  if (q == Quantization::Int4) return DType::Q4;
  fail("quantized_dtype: no dtype for quantization '{}'", quantization_name(q));
}

bool can_quantize(const Shape& shape) {
  return shape.rank() == 2 && shape[0] > 0 && shape[1] > 0 && shape[1] % kQuantGroup == 0;
}

Q8Planes q8_planes(const Tensor& t) {
  check_quantized(t, DType::Q8, "q8_planes");
  const auto* values = static_cast<const int8_t*>(t.raw());
  return {values, reinterpret_cast<const float*>(values + t.numel())};
}

Q4Planes q4_planes(const Tensor& t) {
  check_quantized(t, DType::Q4, "q4_planes");
  const auto* packed = static_cast<const uint8_t*>(t.raw());
  return {packed, reinterpret_cast<const uint16_t*>(packed + t.numel() / 2)};
}

Tensor quantize(const Tensor& w, Quantization q, int threads) {
  if (!w.defined() || !w.is_host() || !is_float(w.dtype()))
    fail("quantize: expected a host float matrix, got {}", w.defined() ? dtype_name(w.dtype()) : "undefined");
  if (!can_quantize(w.shape()))
    fail("quantize: a {} matrix cannot be quantised (rank 2 with K a multiple of {} needed)", w.shape().str(),
         kQuantGroup);
  const int64_t n = w.dim(0), k = w.dim(1);
  Tensor out = Tensor::zeros(w.shape(), quantized_dtype(q));
  for_rows(n, threads, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t r = begin; r < end; ++r) {
      row_f32(w, r, row.data());
      if (q == Quantization::Int8) {
        auto* values = static_cast<int8_t*>(out.raw());
        quantize_row_q8(row.data(), k, values + r * k, reinterpret_cast<float*>(values + n * k) + r);
      } else {
        auto* packed = static_cast<uint8_t*>(out.raw());
        auto* scales = reinterpret_cast<uint16_t*>(packed + n * k / 2);
        quantize_row_q4(row.data(), k, packed + r * k / 2, scales + r * (k / kQuantGroup));
      }
    }
  });
  return out;
}

void dequantize_rows(const Tensor& q, int64_t row0, int64_t rows, float* out) {
  if (!q.defined() || !is_quantized(q.dtype())) fail("dequantize: not a quantised tensor");
  const int64_t k = q.dim(1);
  if (row0 < 0 || rows < 0 || row0 + rows > q.dim(0))
    fail("dequantize: rows [{}, {}) outside a {} tensor", row0, row0 + rows, q.shape().str());
  if (q.dtype() == DType::Q8) {
    const Q8Planes p = q8_planes(q);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i)
        out[r * k + i] = float(p.values[(row0 + r) * k + i]) * p.scales[row0 + r];
    return;
  }
  const Q4Planes p = q4_planes(q);
  const int64_t groups = k / kQuantGroup;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      const uint8_t* bytes = p.packed + ((row0 + r) * groups + g) * 32;
      const float d = bf16_to_f32(p.scales[(row0 + r) * groups + g]);
      float* o = out + r * k + g * kQuantGroup;
      for (int j = 0; j < 32; ++j) {
        o[j] = float(int(bytes[j] & 15) - 8) * d;
        o[j + 32] = float(int(bytes[j] >> 4) - 8) * d;
      }
    }
}

Tensor dequantize(const Tensor& q) {
  if (!q.defined() || !is_quantized(q.dtype()) || q.rank() != 2)
    fail("dequantize: expected a quantised matrix, got {}", q.defined() ? dtype_name(q.dtype()) : "undefined");
  Tensor out = Tensor::zeros(q.shape(), DType::F32);
  dequantize_rows(q, 0, q.dim(0), out.data<float>());
  return out;
}

}  // namespace vlm
