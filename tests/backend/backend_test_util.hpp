#pragma once
// Helpers for the backend tests: the CPU backend, random tensors, and comparison against references
// computed in double.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "vlm/backend/backend.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/util/error.hpp"

namespace vlm::test {

inline Backend& cpu() {
  static const std::shared_ptr<Backend> backend = registry::create_backend("cpu");
  return *backend;
}

// Uniform values in [lo, hi), deterministic per seed.
inline Tensor random_f32(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::zeros(shape, DType::F32);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& x : t.span<float>()) x = dist(rng);
  return t;
}

inline std::vector<double> values(const Tensor& t) {
  std::vector<double> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.item(i);
  return v;
}

// Every element within abs_tol + rel_tol * |expected|; on failure reports the worst element.
inline void require_close(const Tensor& actual, const std::vector<double>& expected, double rel_tol,
                          double abs_tol = 0.0) {
  REQUIRE(size_t(actual.numel()) == expected.size());
  double worst_excess = 0.0;
  int64_t worst = -1;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.item(i), e = expected[size_t(i)];
    const double allowed = abs_tol + rel_tol * std::abs(e);
    const double excess = std::isnan(a) != std::isnan(e) ? INFINITY : std::abs(a - e) - allowed;
    if (excess > worst_excess) {
      worst_excess = excess;
      worst = i;
    }
  }
  INFO("worst element " << worst << ": actual " << (worst >= 0 ? actual.item(worst) : 0.0) << ", expected "
                        << (worst >= 0 ? expected[size_t(worst)] : 0.0) << " (rel " << rel_tol << ", abs "
                        << abs_tol << ")");
  REQUIRE(worst == -1);
}

// The number in "... N matmul primitives built" of the CPU backend's describe().
inline int64_t matmul_primitives_built() {
  const std::string d = cpu().describe();
  const auto end = d.find(" matmul primitives built");
  REQUIRE(end != std::string::npos);
  const auto begin = d.rfind(' ', end - 1) + 1;
  return std::stoll(d.substr(begin, end - begin));
}

}  // namespace vlm::test
