#pragma once
// How this CPU multiplies by bf16 weights, decided once per process from cpu_probe:
//   onednn:  oneDNN's bf16 matmul (AMX tiles where present, else vdpbf16ps brgemm), with the own dot-form
//            kernel (dot_gemm.hpp) for 2-8 rows, where oneDNN 2.6 makes one pass over the weights per row.
//            Chosen with AMX, where vdpbf16ps runs at full rate (twice the f32 FMA flops), and without
//            AVX-512 (the own kernels need it).
//   widen:   f32 compute on bf16 weights widened to f32 as they are read, where vdpbf16ps is missing or
//            runs at half rate: the own dot-form kernel widens in registers; for many rows, blocks of
//            weight rows are widened into a cache-sized buffer and multiplied by oneDNN's f32 matmul.
// VLM_CPU_MATMUL=onednn|widen overrides the choice (benchmarks, tests); auto or unset decides.
#include <string>

namespace vlm::cpu {

enum class MatmulPath { Onednn, Widen };

struct MatmulChoice {
  MatmulPath path = MatmulPath::Onednn;
  std::string reason;  // one phrase: what decided it
};

// The choice for this process (the probe runs on the first call, a few ms). Throws on a bad
// VLM_CPU_MATMUL value or a path this build or CPU cannot run.
const MatmulChoice& matmul_choice();
const char* matmul_path_name(MatmulPath path);

}  // namespace vlm::cpu
