// Time of the CPU backend's attention at the sequence lengths long prompts reach: a vision tower's
// full attention, causal prefill of 1k-8k tokens and decode over long caches, on Qwen2-VL-2B's head
// layout (12 query heads, 2 key/value heads, head_dim 128; vision 16 heads of 80), f32 and bf16 caches.
// GFLOP/s counts only the keys each query sees (half the square for causal prefill).
//
//   vlm_attention_bench [--threads N] [--seconds S] [--lengths L,L,..]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_timing.hpp"
#include "vlm/registry/backends.hpp"

namespace {

struct Case {
  const char* what;
  int64_t queries, keys, q_heads, kv_heads, head_dim;
  bool causal;
  vlm::DType cache;
};

}  // namespace

int main(int argc, char** argv) {
  vlm::BackendOptions options;
  double budget = 1.0;
  std::vector<int64_t> lengths = {1024, 4096, 8192};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) options.threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) budget = std::stod(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--lengths")) {
      lengths.clear();
      for (const char* p = argv[i + 1]; *p;) {
        char* end = nullptr;
        const long long value = std::strtoll(p, &end, 10);
        if (end == p || value <= 0) break;
        lengths.push_back(value);
        p = *end == ',' ? end + 1 : end;
      }
    } else {
      std::fprintf(stderr, "usage: vlm_attention_bench [--threads N] [--seconds S] [--lengths L,L,..]\n");
      return 2;
    }
  }
  const auto backend = vlm::registry::create_backend("cpu", options);
  std::printf("%s\n", backend->describe().c_str());
  std::printf("%-22s %6s %6s %5s | %10s %8s\n", "case", "q", "keys", "cache", "ms", "GFLOP/s");

  std::vector<Case> cases = {{"vision (16 x 80)", 1024, 1024, 16, 16, 80, false, vlm::DType::F32}};
  for (int64_t n : lengths)
    for (vlm::DType cache : {vlm::DType::F32, vlm::DType::BF16}) {
      cases.push_back({"causal prefill", n, n, 12, 2, 128, true, cache});
      cases.push_back({"decode", 1, n, 12, 2, 128, true, cache});
    }
  for (const Case& c : cases) {
    const vlm::Tensor q = vlm::bench::random_tensor({1, c.queries, c.q_heads, c.head_dim}, 1);
    const vlm::Tensor k = vlm::bench::random_tensor({1, c.keys, c.kv_heads, c.head_dim}, 2).to(c.cache);
    const vlm::Tensor v = vlm::bench::random_tensor({1, c.keys, c.kv_heads, c.head_dim}, 3).to(c.cache);
    vlm::Tensor out = backend->empty({1, c.queries, c.q_heads, c.head_dim}, vlm::DType::F32);
    vlm::AttentionParams params;
    params.scale = 1.0f / std::sqrt(float(c.head_dim));
    params.causal = c.causal;
    params.q_offset = c.keys - c.queries;
    // Pairs of (query, visible key): the square, or its lower triangle for causal prefill.
    const double pairs = c.causal && c.queries > 1 ? double(c.queries) * double(c.queries + 1) / 2
                                                   : double(c.queries) * double(c.keys);
    const double flop = 4.0 * pairs * double(c.head_dim) * double(c.q_heads);  // Q K^T and P V
    const double seconds = vlm::bench::best_seconds([&] { backend->attention(q, k, v, out, params); }, budget);
    std::printf("%-22s %6ld %6ld %5s | %10.3f %8.1f\n", c.what, long(c.queries), long(c.keys),
                std::string(vlm::dtype_name(c.cache)).c_str(), seconds * 1e3, flop / seconds * 1e-9);
  }
  return 0;
}
