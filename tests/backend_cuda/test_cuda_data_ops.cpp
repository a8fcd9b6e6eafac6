// Memory, lookup, elementwise and layout ops on the GPU against host references. Skipped (with a WARN)
// where no usable CUDA device exists.
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "cuda_test_support.hpp"
#include "vlm/util/error.hpp"

namespace {

using Catch::Matchers::Contains;
using vlm::DType;
using vlm::Shape;
using vlm::Tensor;
using vlm::test::cuda_backend_or_skip;
using vlm::test::device_tensor;
using vlm::test::host_values;
using vlm::test::random_values;
using vlm::test::require_close;
using vlm::test::rounded_through;

std::vector<float> iota(size_t count) {
  std::vector<float> values(count);
  std::iota(values.begin(), values.end(), 0.0f);
  return values;
}

}  // namespace

TEST_CASE("cuda memory: zeros, copies both ways, upload/download, cached reuse", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  CHECK(backend->device() == vlm::Device::cuda(0));
  CHECK_FALSE(backend->describe().empty());
  CHECK(host_values(*backend, backend->zeros({3, 5}, DType::F32)) == std::vector<float>(15, 0.0f));

  const auto values = random_values(12, 1);
  const Tensor on_device = device_tensor(*backend, values, {3, 4});
  CHECK(on_device.device() == vlm::Device::cuda(0));
  Tensor copied = backend->empty({3, 4}, DType::F32);
  backend->copy(on_device, copied);
  CHECK(host_values(*backend, copied) == values);
  Tensor host = Tensor::zeros({3, 4}, DType::F32);
  backend->copy(copied, host);
  CHECK(std::vector<float>(host.data<float>(), host.data<float>() + 12) == values);
  CHECK(backend->upload(on_device).raw() == on_device.raw());  // already there: no copy
  CHECK_THROWS_AS(backend->copy(host, host), vlm::Error);

  // Steady-state decode allocates the same sizes every step: a released block is handed out again.
  const void* first = backend->empty({1000}, DType::F32).raw();
  const void* second = backend->empty({1000}, DType::F32).raw();
  CHECK(first == second);
}

TEST_CASE("cuda ops reject tensors that are not on the device", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const Tensor host = Tensor::zeros({2, 3}, DType::F32);
  Tensor out = backend->empty({2, 3}, DType::F32);
  CHECK_THROWS_WITH(backend->scale(host, 2.0f, out), Contains("scale") && Contains("on cpu"));
}

TEST_CASE("cuda embedding: i32/i64 ids from host or device, half tables, out-of-range ids", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const int64_t vocab = 11, dim = 7;
  const auto table = rounded_through(random_values(size_t(vocab * dim), 2), DType::BF16);
  const Tensor dtable = device_tensor(*backend, table, {vocab, dim}, DType::BF16);
  const std::vector<int32_t> ids{3, 0, 10, 3};
  std::vector<float> expected;
  for (const int32_t id : ids) expected.insert(expected.end(), table.begin() + id * dim, table.begin() + (id + 1) * dim);
  Tensor out = backend->empty({4, dim}, DType::F32);
  const Tensor host_ids = Tensor::from(std::span<const int32_t>(ids), Shape{4});
  backend->embedding(host_ids, dtable, out);
  CHECK(host_values(*backend, out) == expected);
  backend->embedding(backend->upload(host_ids.to(DType::I64)), dtable, out);
  CHECK(host_values(*backend, out) == expected);

  const std::vector<int64_t> bad{1, 11};
  Tensor two_rows = out.rows(0, 2);
  CHECK_THROWS_WITH(backend->embedding(Tensor::from(std::span<const int64_t>(bad), Shape{2}), dtable, two_rows),
                    Contains("embedding: id 11"));
}

TEST_CASE("cuda add, mul, scale: broadcast over leading dims, in place", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto a = random_values(24, 3);
  const auto b = rounded_through(random_values(12, 4), DType::BF16);
  std::vector<float> sum(24), product(24), scaled(24);
  for (size_t i = 0; i < 24; ++i) {
    sum[i] = a[i] + b[i % 12];
    product[i] = a[i] * b[i % 12];
    scaled[i] = a[i] * 0.5f;
  }
  const Tensor db = device_tensor(*backend, b, {3, 4}, DType::BF16);
  Tensor t = device_tensor(*backend, a, {2, 3, 4});
  backend->add(t, db, t);
  require_close(host_values(*backend, t), sum, 1e-6f, 1e-6f);
  Tensor out = backend->empty({2, 3, 4}, DType::F32);
  backend->mul(device_tensor(*backend, a, {2, 3, 4}), db, out);
  require_close(host_values(*backend, out), product, 1e-6f, 1e-6f);
  t = device_tensor(*backend, a, {2, 3, 4});
  backend->scale(t, 0.5f, t);
  require_close(host_values(*backend, t), scaled, 0, 0);
}

TEST_CASE("cuda concat and slice along any axis", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto a = iota(24), b = random_values(8, 5);
  const Tensor da = device_tensor(*backend, a, {2, 3, 4}), db = device_tensor(*backend, b, {2, 1, 4});
  const Tensor* parts[] = {&da, &db};
  Tensor joined = backend->empty({2, 4, 4}, DType::F32);
  backend->concat(parts, 1, joined);
  std::vector<float> expected;
  for (int r = 0; r < 2; ++r) {
    expected.insert(expected.end(), a.begin() + r * 12, a.begin() + (r + 1) * 12);
    expected.insert(expected.end(), b.begin() + r * 4, b.begin() + (r + 1) * 4);
  }
  CHECK(host_values(*backend, joined) == expected);

  // The inverse: slicing rows 3.. of axis 1 gives b back; axis 0 is a plain contiguous copy.
  Tensor tail = backend->empty({2, 1, 4}, DType::F32);
  backend->slice(joined, -2, 3, tail);
  CHECK(host_values(*backend, tail) == b);
  Tensor second = backend->empty({1, 4, 4}, DType::F32);
  backend->slice(joined, 0, 1, second);
  CHECK(host_values(*backend, second) == std::vector<float>(expected.begin() + 16, expected.end()));

  const std::vector<int32_t> ints{1, 2, 3};
  const Tensor di = backend->upload(Tensor::from(std::span<const int32_t>(ints), Shape{3}));
  const Tensor* int_parts[] = {&di, &di};
  Tensor int_out = backend->empty({6}, DType::I32);
  backend->concat(int_parts, 0, int_out);
  const Tensor int_host = backend->download(int_out);
  CHECK(std::vector<int32_t>(int_host.data<int32_t>(), int_host.data<int32_t>() + 6) ==
        std::vector<int32_t>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("cuda permute and patchify", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto x = iota(24);
  const int perm[] = {2, 0, 1};
  for (const DType dtype : {DType::F32, DType::BF16, DType::I64, DType::U8}) {  // every element width
    INFO("dtype " << vlm::dtype_name(dtype));
    Tensor out = backend->empty({4, 2, 3}, dtype);
    backend->permute(device_tensor(*backend, x, {2, 3, 4}, dtype), perm, out);
    std::vector<float> expected;
    for (int k = 0; k < 4; ++k)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) expected.push_back(x[size_t((i * 3 + j) * 4 + k)]);
    CHECK(host_values(*backend, out) == expected);
  }

  const int64_t B = 1, C = 2, H = 4, W = 6, p = 2;
  const auto img = random_values(size_t(B * C * H * W), 6);
  Tensor patches = backend->empty({B, (H / p) * (W / p), C * p * p}, DType::F32);
  backend->patchify(device_tensor(*backend, img, {B, C, H, W}), int(p), patches);
  std::vector<float> expected;
  for (int64_t gy = 0; gy < H / p; ++gy)
    for (int64_t gx = 0; gx < W / p; ++gx)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t ky = 0; ky < p; ++ky)
          for (int64_t kx = 0; kx < p; ++kx) expected.push_back(img[size_t((c * H + gy * p + ky) * W + gx * p + kx)]);
  CHECK(host_values(*backend, patches) == expected);
}

TEST_CASE("cuda convert: f32 <-> bf16 / f16 rounds like the host", "[cuda][ops]") {
  auto backend = cuda_backend_or_skip();
  if (!backend) return;
  const auto x = random_values(100, 7, -100, 100);
  const Tensor dx = device_tensor(*backend, x, {10, 10});
  for (const DType dtype : {DType::BF16, DType::F16}) {
    INFO("dtype " << vlm::dtype_name(dtype));
    Tensor half = backend->empty({10, 10}, dtype);
    backend->convert(dx, half);
    CHECK(host_values(*backend, half) == rounded_through(x, dtype));
    Tensor back = backend->empty({10, 10}, DType::F32);
    backend->convert(half, back);
    CHECK(host_values(*backend, back) == rounded_through(x, dtype));
  }
}
