#include "strided_gemm.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm::cpu {
namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

// Layouts seen (head counts x sequence capacities) stay few; past this many, start over.
constexpr size_t kMaxPrimitives = 64;

dims b_strides(const StridedGemm::Layout& l) { return l.b_column_major ? dims{1, l.ldb} : dims{l.ldb, 1}; }

}  // namespace

StridedGemm::StridedGemm() : engine_(dnnl::engine::kind::cpu, 0) {}

dnnl::matmul StridedGemm::primitive(const Layout& layout) {
  std::lock_guard lock(mutex_);
  if (auto it = primitives_.find(layout); it != primitives_.end()) return it->second;
  if (primitives_.size() >= kMaxPrimitives) primitives_.clear();
  constexpr int64_t runtime = DNNL_RUNTIME_DIM_VAL;
  const dnnl::memory::desc a({runtime, runtime}, dt::f32, dims{layout.lda, 1});
  const dnnl::memory::desc b({runtime, runtime}, dt::f32, b_strides(layout));
  const dnnl::memory::desc c({runtime, runtime}, dt::f32, dims{layout.ldc, 1});
  dnnl::primitive_attr attr;
  if (layout.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  try {
    return primitives_
        .emplace(layout, dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, engine_)))
        .first->second;
  } catch (const dnnl::error& e) {
    fail("attention: oneDNN cannot build a strided f32 matmul (lda {}, ldb {}, ldc {}): {}", layout.lda,
         layout.ldb, layout.ldc, e.what());
  }
}

namespace {

// Few rows (decode: one query per head): direct loops. A oneDNN call per head and key block costs more
// than the arithmetic there, and creating its stream and memory objects allocates on every call.
void multiply_direct(const StridedGemm::Layout& l, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                     float* c) {
  for (int64_t i = 0; i < m; ++i) {
    const float* ai = a + i * l.lda;
    float* ci = c + i * l.ldc;
    if (l.b_column_major) {  // c[i, j] = dot(a[i, :], b[j, :])
      for (int64_t j = 0; j < n; ++j) {
        const float* bj = b + j * l.ldb;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t kk = 0; kk < k; ++kk) sum += ai[kk] * bj[kk];
        ci[j] = l.accumulate ? ci[j] + sum : sum;
      }
    } else {  // c[i, :] = sum_k a[i, k] * b[k, :]
      if (!l.accumulate) std::fill_n(ci, n, 0.0f);
      for (int64_t kk = 0; kk < k; ++kk) {
        const float x = ai[kk];
        if (x == 0.0f) continue;  // masked or underflowed probabilities
        const float* bk = b + kk * l.ldb;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) ci[j] += x * bk[j];
      }
    }
  }
}

}  // namespace

void StridedGemm::multiply(const Layout& layout, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
                           float* c) {
  if (m <= kDirectRows) return multiply_direct(layout, m, n, k, a, b, c);
  const dnnl::matmul matmul = primitive(layout);  // a handle copy: stays valid if the map is cleared
  dnnl::stream stream(engine_);                   // streams are not meant to be shared between threads
  // oneDNN never writes through the source handles; its API takes void*.
  const dnnl::memory a_mem({{m, k}, dt::f32, dims{layout.lda, 1}}, engine_, const_cast<float*>(a));
  const dnnl::memory b_mem({{k, n}, dt::f32, b_strides(layout)}, engine_, const_cast<float*>(b));
  const dnnl::memory c_mem({{m, n}, dt::f32, dims{layout.ldc, 1}}, engine_, c);
  matmul.execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  stream.wait();
}

}  // namespace vlm::cpu
