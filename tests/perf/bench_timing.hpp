#pragma once
// Timing and inputs shared by the kernel benchmarks in tests/perf.
#include <algorithm>
#include <chrono>
#include <functional>
#include <random>

#include "vlm/tensor/tensor.hpp"

namespace vlm::bench {

using Clock = std::chrono::steady_clock;

// Fastest call, after one warm-up call, over at least 5 calls and `budget` seconds. The fastest rather
// than the median: the development machine's 2 cores are shared, and a preempted OpenMP thread stalls a
// whole call by a scheduler tick; the fastest call is what the code can do.
inline double best_seconds(const std::function<void()>& call, double budget) {
  call();
  double best = 1e30;
  int calls = 0;
  const auto start = Clock::now();
  while (calls < 5 || (std::chrono::duration<double>(Clock::now() - start).count() < budget && calls < 5000)) {
    const auto t0 = Clock::now();
    call();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    ++calls;
  }
  return best;
}

// Uniform in [-1, 1), f32.
inline Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::zeros(shape, DType::F32);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : t.span<float>()) x = dist(rng);
  return t;
}

}  // namespace vlm::bench
