#include "matmul_path.hpp"

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "checks.hpp"
#include "cpu_probe.hpp"
#include "dot_gemm.hpp"

namespace vlm::cpu {

namespace {

// Full-rate vdpbf16ps does twice the flops of an f32 FMA; half rate does the same. 1.4 splits the two
// with room for a noisy probe.
constexpr double kDotAdvantage = 1.4;

MatmulChoice decide() {
  const CpuFeatures features = cpu_features();
  const char* forced = std::getenv("VLM_CPU_MATMUL");
  const std::string_view want = forced ? forced : "auto";
  const bool can_widen = features.avx512f && dot_gemm_available(DotKind::Bf16Widen);
  if (want == "onednn") return {MatmulPath::Onednn, "VLM_CPU_MATMUL=onednn"};
  if (want == "widen") {
    check(can_widen, "matmul", "VLM_CPU_MATMUL=widen needs AVX-512 in both the build and the CPU");
    return {MatmulPath::Widen, "VLM_CPU_MATMUL=widen"};
  }
  check(want == "auto", "matmul", "VLM_CPU_MATMUL must be auto, onednn or widen, not '{}'", want);

  if (features.amx_bf16) return {MatmulPath::Onednn, "AMX bf16 tiles"};
  if (!can_widen) return {MatmulPath::Onednn, "no AVX-512"};
  if (!features.avx512_bf16) return {MatmulPath::Widen, "no AVX-512-BF16"};
  const ComputePeaks& peaks = compute_peaks();
  const double ratio = peaks.f32_fma_gflops > 0 ? peaks.bf16_dot_gflops / peaks.f32_fma_gflops : 0;
  const std::string measured =
      fmt::format("vdpbf16ps {:.0f} vs f32 FMA {:.0f} GFLOP/s per core: {} rate", peaks.bf16_dot_gflops,
                  peaks.f32_fma_gflops, ratio >= kDotAdvantage ? "full" : "half");
  return {ratio >= kDotAdvantage ? MatmulPath::Onednn : MatmulPath::Widen, measured};
}

}  // namespace

const MatmulChoice& matmul_choice() {
  static const MatmulChoice choice = decide();
  return choice;
}

const char* matmul_path_name(MatmulPath path) {
  switch (path) {
    case MatmulPath::Onednn: return "onednn";
    case MatmulPath::Widen: return "widen";
  }
  return "?";
}

}  // namespace vlm::cpu
