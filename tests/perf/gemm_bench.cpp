// GFLOP/s of the CPU backend's matmul on Qwen2-VL-2B language-model shapes, next to a direct oneDNN
// matmul primitive on the same problem (no benchdnn ships with Debian's oneDNN). The direct numbers are
// the ceiling: the backend adds the f32 -> bf16 rounding of activations and the primitive-cache lookup.
//
//   vlm_gemm_bench [--threads N] [--seconds S] [--rows M,M,..] [--kn K,N] [--dtype bf16|f32|f16|q8|q4] [--rotate R]
//
// --rows picks the M of a K=1536 N=8960 product (the MLP's up projection); --kn K,N another K and N.
//
// q8 / q4 are bf16 weights quantised as `--quantize int8 / int4` stores them; the direct oneDNN columns
// then show the bf16 matmul of the same shape, for comparison.
//
// --rotate R cycles the backend's calls through R copies of each weight, so that with R x the weight's
// size past the last-level cache the weights stream from memory, as in decode (the direct oneDNN columns
// keep one copy).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <cstdlib>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "bench_timing.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/tensor/quantized.hpp"

namespace {

vlm::DType weight_dtype(std::string_view name) {
  for (vlm::DType t : {vlm::DType::BF16, vlm::DType::F32, vlm::DType::F16, vlm::DType::Q8, vlm::DType::Q4})
    if (vlm::dtype_name(t) == name) return t;
  std::fprintf(stderr, "vlm_gemm_bench: --dtype must be bf16, f32, f16, q8 or q4\n");
  std::exit(2);
}

using vlm::bench::best_seconds;
using vlm::bench::random_tensor;

// A direct oneDNN matmul: src [m, k] (already in the weight's dtype), weights [n, k] as a transposed
// [k, n] memory, dst f32. `runtime_m` builds the primitive with M = DNNL_RUNTIME_DIM_VAL.
double direct_onednn_seconds(const vlm::Tensor& x, const vlm::Tensor& w, bool runtime_m, double budget) {
  using dt = dnnl::memory::data_type;
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(0);
  const dt type = w.dtype() == vlm::DType::BF16 ? dt::bf16 : dt::f32;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const int64_t pm = runtime_m ? DNNL_RUNTIME_DIM_VAL : m;
  const dnnl::memory::desc src_md({pm, k}, type, {k, 1}), weights_md({k, n}, type, {1, k}),
      dst_md({pm, n}, dt::f32, {n, 1});
  const dnnl::matmul matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, weights_md, dst_md), engine));
  std::vector<float> dst(size_t(m * n));
  const dnnl::memory src({{m, k}, type, {k, 1}}, engine, const_cast<void*>(x.raw()));
  const dnnl::memory weights(weights_md, engine, const_cast<void*>(w.raw()));
  const dnnl::memory out({{m, n}, dt::f32, {n, 1}}, engine, dst.data());
  return best_seconds(
      [&] {
        matmul.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, out}});
        stream.wait();
      },
      budget);
}

}  // namespace

int main(int argc, char** argv) {
  vlm::BackendOptions options;
  double budget = 1.0;
  std::vector<int64_t> rows;          // --rows 32,64: only these M, with K=1536 N=8960
  std::vector<vlm::DType> dtypes;     // --dtype bf16 (repeatable): only these weight dtypes
  int rotate = 1;                     // --rotate 8: calls cycle through 8 copies of the weight
  int64_t kn_k = 1536, kn_n = 8960;   // --kn 8960,1536: the K and N for --rows (M = 1 without --rows)
  bool kn_given = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) options.threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) budget = std::stod(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows")) {
      for (const char* p = argv[i + 1]; *p;) {
        char* end = nullptr;
        rows.push_back(std::strtoll(p, &end, 10));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
      }
    } else if (!std::strcmp(argv[i], "--dtype")) dtypes.push_back(weight_dtype(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--rotate")) rotate = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--kn")) {
      char* end = nullptr;
      kn_k = std::strtoll(argv[i + 1], &end, 10);
      kn_n = *end == ',' ? std::strtoll(end + 1, nullptr, 10) : kn_n;
      kn_given = true;
    }
    else {
      std::fprintf(stderr, "usage: vlm_gemm_bench [--threads N] [--seconds S] [--rows M,M,..] [--kn K,N] [--dtype bf16|f32|f16|q8|q4] "
                   "[--rotate R]\n");
      return 2;
    }
  }
  if (kn_given && rows.empty()) rows = {1};
  if (dtypes.empty()) dtypes = {vlm::DType::BF16, vlm::DType::F32, vlm::DType::F16};
  const auto backend = vlm::registry::create_backend("cpu", options);
  std::printf("%s%s\n", backend->describe().c_str(),
              rotate > 1 ? (", backend calls cycle through " + std::to_string(rotate) + " copies of each weight").c_str()
                         : "");
  std::printf("%-5s %5s %5s %5s | %10s %8s %7s | %20s | %20s\n", "dtype", "M", "K", "N", "backend ms", "GFLOP/s",
              "GB/s", "oneDNN static GFLOP/s", "oneDNN rt-M GFLOP/s");

  struct Shape3 {
    int64_t m, k, n;
  };
  std::vector<Shape3> shapes = {{1, 1536, 1536}, {1, 1536, 8960}, {4, 1536, 8960}, {16, 1536, 8960},
                                {512, 1536, 1536}, {512, 1536, 8960}};
  if (!rows.empty()) {
    shapes.clear();
    for (int64_t m : rows) shapes.push_back({m, kn_k, kn_n});
  }
  // f16 weights have no oneDNN 2.6 matmul on this CPU (the backend widens blocks to f32): no direct column.
  for (vlm::DType dtype : dtypes)
    for (const Shape3& s : shapes) {
      const vlm::Tensor x = random_tensor({s.m, s.k}, 1);
      const vlm::Tensor source = random_tensor({s.n, s.k}, 2).to(vlm::DType::BF16);
      const vlm::Tensor w = dtype == vlm::DType::Q8   ? vlm::quantize(source, vlm::Quantization::Int8)
                            : dtype == vlm::DType::Q4 ? vlm::quantize(source, vlm::Quantization::Int4)
                                                      : random_tensor({s.n, s.k}, 2).to(dtype);
      std::vector<vlm::Tensor> copies;
      for (int r = 1; r < rotate; ++r) copies.push_back(w.clone());
      vlm::Tensor out = backend->empty({s.m, s.n}, vlm::DType::F32);
      const double flop = 2.0 * double(s.m) * double(s.k) * double(s.n);
      size_t call = 0;
      const double backend_s = best_seconds(
          [&] {
            const size_t which = call++ % size_t(rotate);
            backend->matmul(x, which == 0 ? w : copies[which - 1], nullptr, out);
          },
          budget);
      std::string direct = "                 n/a |                  n/a";
      if (dtype != vlm::DType::F16) {
        const bool quantized = vlm::is_quantized(dtype);
        const vlm::Tensor x_in_weight_dtype = x.to(quantized ? vlm::DType::BF16 : dtype);
        const vlm::Tensor& direct_w = quantized ? source : w;
        const double static_s = direct_onednn_seconds(x_in_weight_dtype, direct_w, false, budget);
        const double runtime_s = direct_onednn_seconds(x_in_weight_dtype, direct_w, true, budget);
        char columns[64];
        std::snprintf(columns, sizeof(columns), "%20.1f | %20.1f", flop / static_s * 1e-9, flop / runtime_s * 1e-9);
        direct = columns;
      }
      std::printf("%-5s %5ld %5ld %5ld | %10.3f %8.1f %7.1f | %s\n", std::string(vlm::dtype_name(dtype)).c_str(),
                  long(s.m), long(s.k), long(s.n), backend_s * 1e3, flop / backend_s * 1e-9,
                  double(w.nbytes()) / backend_s * 1e-9, direct.c_str());
    }
  return 0;
}
