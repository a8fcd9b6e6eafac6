#pragma once
// f32 C = A x B on strided views, for the small GEMMs inside attention (one head, one query block).
// M, N and K are runtime dimensions, so one oneDNN primitive serves every call with the same leading
// dimensions (oneDNN 2.6 falls back to its slow reference kernel when the strides are runtime too).
// Safe to call from inside an OpenMP parallel region; oneDNN then runs on the calling thread. Up to
// kDirectRows rows (decode) it runs direct loops instead, which allocate nothing.
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include <oneapi/dnnl/dnnl.hpp>

namespace vlm::cpu {

class StridedGemm {
 public:
  struct Layout {
    int64_t lda = 0;             // A [m, k] row-major, row stride lda
    int64_t ldb = 0;             // B [k, n] row-major with row stride ldb, or column-major with column stride ldb
    int64_t ldc = 0;             // C [m, n] row-major, row stride ldc
    bool b_column_major = false;  // B given as a row-major [n, k] matrix (K in attention's Q K^T)
    bool accumulate = false;      // C += A x B instead of C = A x B
    auto tie() const { return std::tie(lda, ldb, ldc, b_column_major, accumulate); }
    bool operator<(const Layout& o) const { return tie() < o.tie(); }
  };

  // Up to this many rows of A are multiplied by direct loops instead of oneDNN.
  static constexpr int64_t kDirectRows = 8;

  StridedGemm();
  // C = A x B, or C += A x B with Layout::accumulate.
  void multiply(const Layout& layout, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c);

 private:
  dnnl::matmul primitive(const Layout& layout);

  dnnl::engine engine_;
  std::mutex mutex_;
  std::map<Layout, dnnl::matmul> primitives_;
};

}  // namespace vlm::cpu
