#include "matmul_onednn.hpp"

#include <algorithm>
#include <functional>

#include "checks.hpp"
#include "float_convert.hpp"
#include "parallel.hpp"
#include "dot_gemm.hpp"
#include "matmul_path.hpp"
#include "quant_gemm.hpp"

namespace vlm::cpu {
namespace {

using dt = dnnl::memory::data_type;
constexpr std::string_view kOp = "matmul";
// Rows up to which the own kernel beats oneDNN 2.6 even where oneDNN is the main path.
constexpr int64_t kSmallRows = 8;

// From this many rows on, widening blocks of weight rows into a buffer and running oneDNN's f32 matmul on
// them beats the own widening kernel (2 cores, K=1536 N=8960: 182-185 vs 160 GFLOP/s at M=512; below
// ~256 rows the widening is amortised over too few rows: 82-124 vs 170 at M=128).
constexpr int64_t kWidenedBlockRows = 256;
// f32 bytes per widened block: 4 MiB (the scratch it costs) measured best among 256 KiB, 1 MiB and 4 MiB
// (M=512: 79-154, 150, 164-185 GFLOP/s); oneDNN f32 needs enough columns per call to reach its rate.
constexpr int64_t kWidenedBlockBytes = 4 << 20;

dnnl::memory::dims dims(std::initializer_list<int64_t> values) { return dnnl::memory::dims(values); }

}  // namespace

size_t OnednnMatmul::GemmKeyHash::operator()(const GemmKey& key) const {
  size_t h = 0;
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  mix(std::hash<int64_t>{}(key.m));
  mix(std::hash<int64_t>{}(key.n));
  mix(std::hash<int64_t>{}(key.k));
  mix(std::hash<int64_t>{}(key.ldd));
  mix(size_t(key.src_type) << 8 | size_t(key.weight_type) << 1 | size_t(key.has_bias));
  mix(size_t(key.transposed));
  return h;
}

OnednnMatmul::OnednnMatmul() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

const char* OnednnMatmul::isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41: return "sse41";
    case isa::avx: return "avx";
    case isa::avx2: return "avx2";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx512_core: return "avx512_core";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_amx: return "avx512_core_amx";
    default: return "unknown isa";
  }
}

void OnednnMatmul::clear() {
  std::lock_guard lock(mutex_);
  cache_.clear();
  lru_.clear();
}

int64_t OnednnMatmul::primitives_built() const { return built_; }

OnednnMatmul::Primitive& OnednnMatmul::primitive(const GemmKey& key) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru_position);
    return it->second;
  }
  if (cache_.size() >= kCapacity) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  const int64_t m = key.m == kRuntimeM ? DNNL_RUNTIME_DIM_VAL : key.m;
  const dnnl::memory::desc src_md(dims({m, key.k}), key.src_type, dims({key.k, 1}));
  // Stored [n, k] row-major is [k, n] column-major: strides {1, k}.
  const dnnl::memory::desc weights_md(dims({key.k, key.n}), key.weight_type,
                                      key.transposed ? dims({1, key.k}) : dims({key.n, 1}));
  const dnnl::memory::desc bias_md(dims({1, key.n}), dt::f32, dims({key.n, 1}));
  const dnnl::memory::desc dst_md(dims({m, key.n}), dt::f32, dims({key.ldd, 1}));
  Primitive p;
  try {
    const auto desc = key.has_bias ? dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md)
                                   : dnnl::matmul::desc(src_md, weights_md, dst_md);
    p.matmul = dnnl::matmul(dnnl::matmul::primitive_desc(desc, engine_));
  } catch (const dnnl::error& e) {
    fail("matmul: oneDNN cannot build a primitive for m={} n={} k={} ({}): {}", key.m, key.n, key.k,
         key.weight_type == dt::bf16 ? "bf16" : "f32", e.what());
  }
  p.weights = dnnl::memory(weights_md, engine_, DNNL_MEMORY_NONE);
  if (key.has_bias) p.bias = dnnl::memory(bias_md, engine_, DNNL_MEMORY_NONE);
  ++built_;
  lru_.push_front(key);
  p.lru_position = lru_.begin();
  return cache_.emplace(key, std::move(p)).first->second;
}

// src/dst memories need concrete row counts even for the runtime-M primitive; they are rebuilt only when
// the row count changes (never in steady-state decode).
void OnednnMatmul::bind_rows(Primitive& p, const GemmKey& key, int64_t m) {
  if (p.memory_m == m) return;
  p.src = dnnl::memory({dims({m, key.k}), key.src_type, dims({key.k, 1})}, engine_, DNNL_MEMORY_NONE);
  p.dst = dnnl::memory({dims({m, key.n}), dt::f32, dims({key.ldd, 1})}, engine_, DNNL_MEMORY_NONE);
  p.memory_m = m;
  p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}};
  if (key.has_bias) p.args.emplace(DNNL_ARG_BIAS, p.bias);
}

void OnednnMatmul::gemm(GemmKey key, int64_t m, const void* src, const void* weights, const float* bias,
                        float* dst) {
  // oneDNN 2.6 picks its JIT GEMV for a runtime-M primitive but brgemm for a static M=1 one, and the GEMV
  // is ~2.5x faster for decode (K=N=1536 bf16, 1 thread: 89 vs 33 GFLOP/s). For M > 1 the static brgemm
  // primitive is as fast or faster (M=512, K=1536, 2 threads: f32 218 vs 182-192 GFLOP/s, bf16 447 vs
  // 439), so those are cached per M; building one costs 0.5-1.6 ms, once per new prompt length and shape.
  key.m = m == 1 ? kRuntimeM : m;
  Primitive& p = primitive(key);
  bind_rows(p, key, m);
  // oneDNN never writes through src/weights/bias handles; its API just takes void*.
  p.src.set_data_handle(const_cast<void*>(src));
  p.weights.set_data_handle(const_cast<void*>(weights));
  p.dst.set_data_handle(dst);
  if (key.has_bias) p.bias.set_data_handle(const_cast<float*>(bias));
  p.matmul.execute(stream_, p.args);
  stream_.wait();
}

void OnednnMatmul::run_blocks(int64_t m, int64_t n, int64_t k, const void* x, DType block_type, const Tensor& w,
                             const float* bias, float* out, bool w_transposed) {
  const auto element = int64_t(dtype_size(block_type));
  const int64_t block_rows = std::clamp<int64_t>(kWidenedBlockBytes / (k * element) / 16 * 16, 16, n);
  void* block = weight_block_.get(size_t(block_rows * k * element));
  const auto* weights = w.data<uint16_t>();
  for (int64_t n0 = 0; n0 < n; n0 += block_rows) {
    const int64_t rows = std::min(block_rows, n - n0);
    if (is_quantized(w.dtype())) {
      dequantize_block(w, n0, rows, block_type, block);
    } else if (w_transposed) {  // rows n0.. of [n, k] are contiguous: widen them as they are
      parallel_chunks(rows * k, 4096, [&](int64_t begin, int64_t end) {
        to_f32(w.dtype(), weights + n0 * k + begin, static_cast<float*>(block) + begin, end - begin);
      });
    } else {  // columns n0.. of [k, n]: gather them into a dense [k, rows] block
      parallel_for(k, rows, [&](int64_t kk) {
        to_f32(w.dtype(), weights + kk * n + n0, static_cast<float*>(block) + kk * rows, rows);
      });
    }
    const dt type = block_type == DType::BF16 ? dt::bf16 : dt::f32;
    GemmKey key{.n = rows, .k = k, .ldd = n, .src_type = type, .weight_type = type,
                .has_bias = bias != nullptr, .transposed = w_transposed};
    gemm(key, m, x, block, bias ? bias + n0 : nullptr, out + n0);
  }
}

const uint16_t* OnednnMatmul::bf16_activations(const Tensor& x, int64_t count) {
  if (x.dtype() == DType::BF16) return x.data<uint16_t>();
  auto* rounded = activations_.get<uint16_t>(size_t(count));
  parallel_chunks(count, 8192, [&](int64_t begin, int64_t end) {
    from_f32(x.data<float>() + begin, DType::BF16, rounded + begin, end - begin);
  });
  return rounded;
}

void OnednnMatmul::run(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out, bool w_transposed) {
  check_tensor(kOp, "w", w, {DType::F32, DType::BF16, DType::F16, DType::Q8, DType::Q4});
  check_rank(kOp, "w", w, 2);
  const int64_t n = w_transposed ? w.dim(0) : w.dim(1);
  const int64_t k = w_transposed ? w.dim(1) : w.dim(0);
  if (is_quantized(w.dtype())) check_tensor(kOp, "x", x, {DType::F32});
  else check_tensor(kOp, "x", x, {DType::F32, w.dtype()});
  check(x.rank() >= 1 && x.dim(-1) == k, kOp, "{} does not match {} (K = {}, w_transposed = {})",
        describe_tensor("x", x), describe_tensor("w", w), k, w_transposed);
  check(k > 0, kOp, "{} has K = 0", describe_tensor("w", w));
  const int64_t m = x.numel() / k;
  check_tensor(kOp, "out", out, {DType::F32});
  check(out.dim(-1) == n && out.numel() == m * n, kOp,
        "{} must be [rows, {}] with the {} rows of {}", describe_tensor("out", out), n, m,
        describe_tensor("x", x));
  if (bias) {
    check_tensor(kOp, "bias", *bias, kFloatDTypes);
    check(bias->rank() == 1 && bias->dim(0) == n, kOp, "{} must have shape [{}]",
          describe_tensor("bias", *bias), n);
  }
  check(out.raw() != x.raw(), kOp, "out must not alias x");
  if (m == 0 || n == 0) return;

  std::lock_guard lock(mutex_);
  const float* bias_f32 = nullptr;
  if (bias) {
    bias_f32 = bias->data<float>();
    if (bias->dtype() != DType::F32) {
      float* converted = bias_.get<float>(size_t(n));
      to_f32(bias->dtype(), bias->raw(), converted, n);
      bias_f32 = converted;
    }
  }
  float* dst = out.data<float>();
  GemmKey key{.n = n, .k = k, .ldd = n, .has_bias = bias != nullptr, .transposed = w_transposed};

  switch (w.dtype()) {
    case DType::F32:
      key.src_type = key.weight_type = dt::f32;
      return gemm(key, m, x.raw(), w.raw(), bias_f32, dst);
    case DType::BF16: {
      const MatmulPath path = matmul_choice().path;
      if (w_transposed && path == MatmulPath::Widen) {
        // f32 activations holding bf16-rounded values: the same products as the bf16 paths.
        float* rounded = activations_.get<float>(size_t(m * k));
        const bool from_f32 = x.dtype() == DType::F32;
        parallel_chunks(m * k, 8192, [&](int64_t begin, int64_t end) {
          if (from_f32) round_to_bf16(x.data<float>() + begin, rounded + begin, end - begin);
          else to_f32(DType::BF16, x.data<uint16_t>() + begin, rounded + begin, end - begin);
        });
        if (m >= kWidenedBlockRows) return run_blocks(m, n, k, rounded, DType::F32, w, bias_f32, dst, w_transposed);
        return dot_gemm(DotKind::Bf16Widen, m, n, k, rounded, w.data<uint16_t>(), bias_f32, dst, n);
      }
      key.src_type = key.weight_type = dt::bf16;
      const void* src = bf16_activations(x, m * k);
      // 2-8 rows: oneDNN 2.6 makes a pass over the weights per row (K=1536 N=8960 M=4: 93-112 GFLOP/s),
      // the own kernel one pass for all (229-248). One row, weights streaming from memory: the own kernel
      // and oneDNN's runtime-M GEMV read at the same rate (30-34 GB/s, alternating runs), but oneDNN
      // allocates on every call, which decode must not.
      if (w_transposed && m <= kSmallRows && dot_gemm_available(DotKind::Bf16Dot))
        return dot_gemm(DotKind::Bf16Dot, m, n, k, src, w.data<uint16_t>(), bias_f32, dst, n);
      return gemm(key, m, src, w.raw(), bias_f32, dst);
    }
    case DType::F16: {
      const float* src = x.data<float>();
      if (x.dtype() == DType::F16) {
        float* widened = activations_.get<float>(size_t(m * k));
        parallel_chunks(m * k, 8192, [&](int64_t begin, int64_t end) {
          to_f32(DType::F16, x.data<uint16_t>() + begin, widened + begin, end - begin);
        });
        src = widened;
      }
      if (w_transposed && m < kWidenedBlockRows && dot_gemm_available(DotKind::F16Widen))
        return dot_gemm(DotKind::F16Widen, m, n, k, src, w.data<uint16_t>(), bias_f32, dst, n);
      return run_blocks(m, n, k, src, DType::F32, w, bias_f32, dst, w_transposed);
    }
    case DType::Q8:
    case DType::Q4: {
      check(w_transposed, kOp, "{} must be stored [N, K] (w_transposed)", describe_tensor("w", w));
      if (m <= kQuantGemmMaxRows && quant_gemm_available())
        return quant_gemm(m, x.data<float>(), w, bias_f32, dst, n, activations_);
      // Prefill: dequantised blocks, bf16 where bf16 matmuls are the fast path, else f32.
      if (matmul_choice().path == MatmulPath::Widen)
        return run_blocks(m, n, k, x.data<float>(), DType::F32, w, bias_f32, dst, true);
      return run_blocks(m, n, k, bf16_activations(x, m * k), DType::BF16, w, bias_f32, dst, true);
    }
    default: break;
  }
}

}  // namespace vlm::cpu
