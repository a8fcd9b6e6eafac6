#include "cpu_probe.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <cpuid.h>
#include <omp.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace vlm::cpu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

uint64_t xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return uint64_t(edx) << 32 | eax;
}

#if defined(__AVX512F__)
// 24 independent chains: enough to cover the latency of two pipes on every CPU seen so far, and few
// enough to stay in the 32 vector registers.
#define VLM_PROBE_CHAINS(OP) \
  OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) \
  OP(12) OP(13) OP(14) OP(15) OP(16) OP(17) OP(18) OP(19) OP(20) OP(21) OP(22) OP(23)
// Stores the result where the compiler must assume it is read, so the loop is not optimised away.
inline void keep(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  volatile float sink = lanes[0];
  (void)sink;
}

#define VLM_DECLARE(i) __m512 a##i = _mm512_set1_ps(0.001f * i);
#define VLM_SUM(i) total = _mm512_add_ps(total, a##i);

double fma_gflops(int64_t iterations) {
  VLM_PROBE_CHAINS(VLM_DECLARE)
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iterations; ++it) {
#define VLM_FMA(i) a##i = _mm512_fmadd_ps(a##i, x, y);
    VLM_PROBE_CHAINS(VLM_FMA)
#undef VLM_FMA
  }
  const double s = seconds_since(t0);
  __m512 total = _mm512_setzero_ps();
  VLM_PROBE_CHAINS(VLM_SUM)
  keep(total);
  return double(iterations) * 24 * 32 / s * 1e-9;
}

#if defined(__AVX512BF16__)
double bf16_dot_gflops(int64_t iterations) {
  VLM_PROBE_CHAINS(VLM_DECLARE)
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3400);
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iterations; ++it) {
#define VLM_DOT(i) a##i = _mm512_dpbf16_ps(a##i, x, y);
    VLM_PROBE_CHAINS(VLM_DOT)
#undef VLM_DOT
  }
  const double s = seconds_since(t0);
  __m512 total = _mm512_setzero_ps();
  VLM_PROBE_CHAINS(VLM_SUM)
  keep(total);
  return double(iterations) * 24 * 64 / s * 1e-9;  // 16 lanes x 2 products x (multiply + add)
}
#endif
#undef VLM_DECLARE
#undef VLM_SUM
#endif

// Best of a few short runs: a preempted run only ever reads low.
template <typename Loop>
double best_of(Loop&& loop) {
  double best = 0;
  for (int i = 0; i < 3; ++i) best = std::max(best, loop(int64_t(40000)));  // ~1 M instructions, < 1 ms
  return best;
}

}  // namespace

CpuFeatures cpu_features() {
  CpuFeatures f;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return f;  // no OSXSAVE
  const uint64_t xcr = xcr0();
  const bool zmm_state = (xcr & 0xe6) == 0xe6;                  // SSE, AVX, opmask, ZMM state
  const bool tile_state = (xcr & (3ull << 17)) == (3ull << 17);  // XTILECFG, XTILEDATA
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  f.avx512f = zmm_state && (ebx & (1u << 16));
  f.avx512_vnni = f.avx512f && (ecx & (1u << 11));
  f.amx_bf16 = tile_state && (edx & (1u << 22)) && (edx & (1u << 24));
  f.amx_int8 = tile_state && (edx & (1u << 25)) && (edx & (1u << 24));
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512_bf16 = f.avx512f && (eax & (1u << 5));
  return f;
}

const ComputePeaks& compute_peaks() {
  static const ComputePeaks peaks = [] {
    ComputePeaks p;
#if defined(__AVX512F__)
    if (!cpu_features().avx512f) return p;
    p.f32_fma_gflops = best_of(fma_gflops);
#if defined(__AVX512BF16__)
    if (cpu_features().avx512_bf16) p.bf16_dot_gflops = best_of(bf16_dot_gflops);
#endif
#endif
    return p;
  }();
  return peaks;
}

double measure_read_bandwidth_gbs(size_t bytes) {
  const size_t count = std::max<size_t>(bytes / sizeof(uint64_t), 1 << 20) / 64 * 64;
  std::unique_ptr<uint64_t, decltype(&std::free)> buffer(
      static_cast<uint64_t*>(std::aligned_alloc(64, count * sizeof(uint64_t))), &std::free);
  if (!buffer) return 0;
  uint64_t* data = buffer.get();
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < count; ++i) data[i] = i;  // first touch by the threads that will read
  double best = 0;
  uint64_t sink = 0;
  for (int pass = 0; pass < 4; ++pass) {
    const auto t0 = Clock::now();
    uint64_t total = 0;
#pragma omp parallel reduction(^ : total)
    {
      const size_t threads = size_t(omp_get_num_threads()), t = size_t(omp_get_thread_num());
      const size_t lines = count / 8, begin = lines * t / threads, end = lines * (t + 1) / threads;
#if defined(__AVX512F__)
      __m512i acc = _mm512_setzero_si512();
      for (size_t line = begin; line < end; ++line) acc = _mm512_xor_si512(acc, _mm512_load_si512(data + line * 8));
      alignas(64) uint64_t lanes[8];
      _mm512_store_si512(lanes, acc);
      for (uint64_t lane : lanes) total ^= lane;
#else
      for (size_t line = begin; line < end; ++line) total ^= data[line * 8] ^ data[line * 8 + 7];
#endif
    }
    const double s = seconds_since(t0);
    sink ^= total;
    if (pass > 0) best = std::max(best, double(count * sizeof(uint64_t)) / s * 1e-9);
  }
  volatile uint64_t keep = sink;
  (void)keep;
  return best;
}

}  // namespace vlm::cpu
