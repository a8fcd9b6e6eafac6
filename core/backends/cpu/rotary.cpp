// Rotary position embedding in the Hugging Face rotate_half convention:
//   out = x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1],
// applied to the first cos.dim(-1) channels of each head; the remaining channels pass through.
#include <cstring>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "parallel.hpp"

namespace vlm::cpu {

void rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out) {
  constexpr std::string_view op = "rotary";
  check_tensor(op, "x", x, {DType::F32});
  check_tensor(op, "cos", cos, {DType::F32});
  check_tensor(op, "sin", sin, {DType::F32});
  check_tensor(op, "out", out, {DType::F32});
  check_rank(op, "x", x, 4);
  check_same_shape(op, "x", x, "out", out);
  check_same_shape(op, "cos", cos, "sin", sin);
  const int64_t batch = x.dim(0), seq = x.dim(1), heads = x.dim(2), head_dim = x.dim(3);
  check(cos.rank() == 3 && (cos.dim(0) == batch || cos.dim(0) == 1) && cos.dim(1) == seq &&
            cos.dim(2) <= head_dim && cos.dim(2) % 2 == 0,
        op, "{} must be [{} or 1, {}, an even count <= {}] for {}", describe_tensor("cos", cos), batch, seq,
        head_dim, describe_tensor("x", x));
  const int64_t rotated = cos.dim(2), half = rotated / 2;
  const bool per_batch = cos.dim(0) == batch && batch > 1;

  parallel_for(batch * seq, heads * head_dim, [&](int64_t position) {
    const int64_t b = position / seq, s = position % seq;
    const int64_t table_row = (per_batch ? b * seq : 0) + s;
    const float* c = cos.data<float>() + table_row * rotated;
    const float* sn = sin.data<float>() + table_row * rotated;
    for (int64_t h = 0; h < heads; ++h) {
      const float* in = x.data<float>() + (position * heads + h) * head_dim;
      float* o = out.data<float>() + (position * heads + h) * head_dim;
      // Both halves are read before either is written, so out may alias x.
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = in[i], x2 = in[i + half];
        o[i] = x1 * c[i] - x2 * sn[i];
        o[i + half] = x2 * c[i + half] + x1 * sn[i + half];
      }
      if (o != in) std::memcpy(o + rotated, in + rotated, size_t(head_dim - rotated) * sizeof(float));
    }
  });
}

}  // namespace vlm::cpu
