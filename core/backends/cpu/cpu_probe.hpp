#pragma once
// What this CPU has (cpuid) and how fast it runs the instructions the matmul paths are built on
// (register-only loops, one core). Machines differ: some run vdpbf16ps at twice the f32 FMA rate in
// flops, some at the same rate, some have AMX tiles; the matmul dispatch is decided from these numbers.
#include <cstddef>
#include <string>

namespace vlm::cpu {

struct CpuFeatures {
  bool avx512f = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
  bool amx_bf16 = false;  // AMX tiles usable by this process (cpuid and the OS's XSAVE state)
  bool amx_int8 = false;
};
CpuFeatures cpu_features();

struct ComputePeaks {
  double f32_fma_gflops = 0;    // one core, 512-bit FMAs
  double bf16_dot_gflops = 0;   // one core, vdpbf16ps (0 when the build or the CPU lacks it)
};
// Best of 3 loops of ~1 M instructions each (< 1 ms); the result of the first call is kept for the process.
const ComputePeaks& compute_peaks();

// Read bandwidth of all threads streaming a buffer of `bytes` (well beyond the caches), best of 3 passes,
// in GB/s. Takes ~0.1 s per 256 MiB.
double measure_read_bandwidth_gbs(size_t bytes);

}  // namespace vlm::cpu
