// Layout ops against index-by-index references: concat, slice, permute (rank 1..8, every element size),
// patchify. Exact equality: these ops only move bytes.
#include <numeric>

#include "backend/backend_test_util.hpp"

namespace vlm::test {
namespace {

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> strides(size_t(s.rank()), 1);
  for (int d = s.rank() - 2; d >= 0; --d) strides[size_t(d)] = strides[size_t(d + 1)] * s[d + 1];
  return strides;
}

// Multi-index of a flat position.
std::vector<int64_t> index_of(int64_t flat, const Shape& s) {
  std::vector<int64_t> index(size_t(s.rank()));
  for (int d = s.rank() - 1; d >= 0; --d) {
    index[size_t(d)] = flat % s[d];
    flat /= s[d];
  }
  return index;
}

// 0, 1, 2, ... in `dtype` (values stay exact in every dtype for the sizes used here).
Tensor iota(const Shape& shape, DType dtype, double start = 0.0) {
  Tensor t = Tensor::zeros(shape, DType::F32);
  std::iota(t.data<float>(), t.data<float>() + t.numel(), float(start));
  return t.to(dtype);
}

}  // namespace

TEST_CASE("concat along every axis, negative axis", "[cpu][layout]") {
  const Tensor a = iota({2, 3, 4}, DType::F32), b = iota({2, 3, 4}, DType::F32, 100);
  for (int axis : {0, 1, 2, -1}) {
    const int ax = axis < 0 ? axis + 3 : axis;
    Shape b_shape = a.shape();
    b_shape[ax] = 1 + ax;  // parts of different lengths
    const Tensor part_b = iota(b_shape, DType::F32, 100);
    Shape out_shape = a.shape();
    out_shape[ax] += b_shape[ax];
    Tensor out = cpu().empty(out_shape, DType::F32);
    const Tensor* parts[] = {&a, &part_b};
    cpu().concat(parts, axis, out);
    const auto a_strides = strides_of(a.shape()), b_strides = strides_of(b_shape);
    for (int64_t i = 0; i < out.numel(); ++i) {
      auto index = index_of(i, out_shape);
      const Tensor& source = index[size_t(ax)] < a.dim(ax) ? a : part_b;
      if (&source == &part_b) index[size_t(ax)] -= a.dim(ax);
      const auto& strides = &source == &a ? a_strides : b_strides;
      int64_t flat = 0;
      for (size_t d = 0; d < 3; ++d) flat += index[d] * strides[d];
      REQUIRE(out.item(i) == source.item(flat));
    }
  }
  Tensor out = cpu().empty({2, 3, 9}, DType::F32);
  const Tensor* parts[] = {&a, &b};
  REQUIRE_THROWS_WITH(cpu().concat(parts, 2, out), Catch::Contains("concat"));
  const Tensor bf16 = b.to(DType::BF16);
  const Tensor* mixed[] = {&a, &bf16};
  Tensor out8 = cpu().empty({2, 3, 8}, DType::F32);
  REQUIRE_THROWS_AS(cpu().concat(mixed, 2, out8), Error);
}

TEST_CASE("slice along an axis, bounds checked", "[cpu][layout]") {
  const Tensor x = iota({3, 5, 2}, DType::BF16);
  Tensor out = cpu().empty({3, 2, 2}, DType::BF16);
  cpu().slice(x, 1, 2, out);
  for (int64_t i = 0; i < out.numel(); ++i) {
    const auto index = index_of(i, out.shape());
    REQUIRE(out.item(i) == x.item((index[0] * 5 + index[1] + 2) * 2 + index[2]));
  }
  REQUIRE_THROWS_WITH(cpu().slice(x, 1, 4, out), Catch::Contains("slice") && Catch::Contains("out of range"));
  Tensor wrong = cpu().empty({3, 2, 3}, DType::BF16);
  REQUIRE_THROWS_AS(cpu().slice(x, 1, 0, wrong), Error);
}

TEST_CASE("permute: ranks 1 to 8, every element size, contiguous and strided inner axes", "[cpu][layout]") {
  struct Case {
    Shape shape;
    std::vector<int> perm;
  };
  const std::vector<Case> cases = {
      {{5}, {0}},
      {{3, 4}, {1, 0}},
      {{2, 3, 4, 5}, {0, 2, 1, 3}},  // [B, S, H, D] -> [B, H, S, D]: last axis stays
      {{2, 3, 4, 5}, {3, 1, 0, 2}},
      {{2, 1, 3, 2, 2, 3, 1, 2}, {7, 5, 3, 1, 0, 2, 4, 6}},
  };
  for (const auto& c : cases)
    for (DType dtype : {DType::F32, DType::BF16, DType::I64, DType::U8}) {
      INFO(c.shape.str() << " " << dtype_name(dtype));
      const Tensor x = iota(c.shape, dtype);
      std::vector<int64_t> out_dims;
      for (int p : c.perm) out_dims.push_back(c.shape[p]);
      Tensor out = cpu().empty(Shape(out_dims), dtype);
      cpu().permute(x, c.perm, out);
      const auto in_strides = strides_of(c.shape);
      for (int64_t i = 0; i < out.numel(); ++i) {
        const auto index = index_of(i, out.shape());
        int64_t flat = 0;
        for (size_t d = 0; d < c.perm.size(); ++d) flat += index[d] * in_strides[size_t(c.perm[d])];
        REQUIRE(out.item(i) == x.item(flat));
      }
    }
  const Tensor x = iota({2, 3}, DType::F32);
  Tensor out = cpu().empty({3, 2}, DType::F32);
  const std::vector<int> repeated = {0, 0};
  REQUIRE_THROWS_WITH(cpu().permute(x, repeated, out), Catch::Contains("permutation"));
  const std::vector<int> identity = {0, 1};
  REQUIRE_THROWS_AS(cpu().permute(x, identity, out), Error);
}

TEST_CASE("patchify: row-major grid, channel-major inside a patch", "[cpu][layout]") {
  const int64_t batch = 2, channels = 3, height = 4, width = 6, p = 2;
  const Tensor img = iota({batch, channels, height, width}, DType::F32);
  Tensor out = cpu().empty({batch, (height / p) * (width / p), channels * p * p}, DType::F32);
  cpu().patchify(img, int(p), out);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t gy = 0; gy < height / p; ++gy)
      for (int64_t gx = 0; gx < width / p; ++gx)
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t py = 0; py < p; ++py)
            for (int64_t px = 0; px < p; ++px) {
              const int64_t patch = gy * (width / p) + gx;
              const int64_t out_index = (b * out.dim(1) + patch) * out.dim(2) + (c * p + py) * p + px;
              const int64_t in_index = ((b * channels + c) * height + gy * p + py) * width + gx * p + px;
              REQUIRE(out.item(out_index) == img.item(in_index));
            }
  Tensor odd_out = cpu().empty({batch, 4, channels * 9}, DType::F32);
  REQUIRE_THROWS_WITH(cpu().patchify(img, 3, odd_out), Catch::Contains("patchify") && Catch::Contains("multiple"));
}

}  // namespace vlm::test
