#include "cuda_test_support.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "vlm/registry/backends.hpp"

namespace vlm::test {

std::shared_ptr<Backend> cuda_backend_or_skip() {
  // Probed once: creating a CUDA context is slow, and every test shares the backend.
  static const auto probe = [] {
    std::pair<std::shared_ptr<Backend>, std::string> result;
    const auto entries = registry::discover_backends();
    const auto cuda = std::find_if(entries.begin(), entries.end(), [](const auto& e) { return e.name == "cuda"; });
    if (cuda == entries.end())
      result.second = "libvlm_backend_cuda.so was not found";
    else if (!cuda->usable())
      result.second = cuda->status;
    else
      result.first = registry::create_backend("cuda");
    return result;
  }();
  if (!probe.first) WARN("SKIPPED: no usable CUDA device: " << probe.second);
  return probe.first;
}

std::vector<float> random_values(size_t count, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(count);
  for (float& v : values) v = dist(rng);
  return values;
}

Tensor host_tensor(const std::vector<float>& values, const Shape& shape) {
  return Tensor::from(std::span<const float>(values), shape);
}

std::vector<float> rounded_through(const std::vector<float>& values, DType dtype) {
  const Tensor stored = host_tensor(values, Shape{int64_t(values.size())}).to(dtype);
  const Tensor back = stored.to(DType::F32);
  return {back.data<float>(), back.data<float>() + back.numel()};
}

Tensor device_tensor(Backend& backend, const std::vector<float>& values, const Shape& shape, DType dtype) {
  return backend.upload(host_tensor(values, shape).to(dtype));
}

std::vector<float> host_values(Backend& backend, const Tensor& t) {
  const Tensor host = backend.download(t).to(DType::F32);
  return {host.data<float>(), host.data<float>() + host.numel()};
}

void require_close(const std::vector<float>& actual, const std::vector<float>& expected, float atol, float rtol) {
  REQUIRE(actual.size() == expected.size());
  if (actual.empty()) return;
  size_t worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = std::fabs(double(actual[i]) - double(expected[i]));
    const double excess = error - (atol + rtol * std::fabs(double(expected[i])));
    if (std::isnan(actual[i]) != std::isnan(expected[i]) || excess > worst_excess) {
      worst_excess = std::isnan(actual[i]) != std::isnan(expected[i]) ? INFINITY : excess;
      worst = i;
    }
  }
  INFO("worst element " << worst << ": got " << actual[worst] << ", expected " << expected[worst] << " (atol "
                        << atol << ", rtol " << rtol << ")");
  REQUIRE(worst_excess <= 0.0);
}

}  // namespace vlm::test
