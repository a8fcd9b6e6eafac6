// The CUDA backend's argument validation (op_checks.cpp), which needs no GPU: accepted shapes yield the
// sizes the kernels are launched with, and rejected ones name the op and the shapes involved.
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "op_checks.hpp"
#include "vlm/util/error.hpp"

namespace {

using Catch::Matchers::Contains;
using vlm::DType;
using vlm::Shape;
using vlm::Tensor;

// Metadata only: checks never touch the data.
Tensor meta(const Shape& shape, DType dtype = DType::F32, vlm::Device device = vlm::Device::cuda(0)) {
  return Tensor::borrow(nullptr, shape, dtype, device, nullptr);
}

// Applies a plan the way the permute kernel does, to the element indices of the source.
std::vector<int64_t> gather_indices(const vlm::cuda::PermutePlan& plan, int64_t count) {
  std::vector<int64_t> sources(static_cast<size_t>(count));
  for (int64_t o = 0; o < count; ++o) {
    int64_t remaining = o, source = 0;
    for (int d = plan.rank - 1; d >= 0; --d) {
      source += (remaining % plan.out_dims[size_t(d)]) * plan.src_strides[size_t(d)];
      remaining /= plan.out_dims[size_t(d)];
    }
    sources[size_t(o)] = source;
  }
  return sources;
}

}  // namespace

TEST_CASE("cuda op checks: placement", "[cuda][checks]") {
  const Tensor on_device = meta({2, 3});
  const Tensor on_host = meta({2, 3}, DType::F32, vlm::Device::cpu());
  CHECK_NOTHROW(vlm::cuda::require_on_device(vlm::Device::cuda(0), "add", {&on_device, nullptr}));
  CHECK_THROWS_WITH(vlm::cuda::require_on_device(vlm::Device::cuda(0), "add", {&on_device, &on_host}),
                    Contains("add:") && Contains("[2, 3]") && Contains("on cpu, expected cuda:0"));
  CHECK_THROWS_WITH(vlm::cuda::require_on_device(vlm::Device::cuda(1), "add", {&on_device}), Contains("cuda:1"));
  CHECK_THROWS_WITH(vlm::cuda::check_copy(vlm::Device::cuda(0), on_host, on_host), Contains("copy"));
  CHECK_NOTHROW(vlm::cuda::check_copy(vlm::Device::cuda(0), on_host, on_device));
  CHECK_THROWS_WITH(vlm::cuda::check_copy(vlm::Device::cuda(0), on_device, meta({3, 2})), Contains("[3, 2]"));
}

TEST_CASE("cuda op checks: matmul", "[cuda][checks]") {
  const auto s = vlm::cuda::check_matmul(meta({2, 3, 8}), meta({5, 8}, DType::BF16), nullptr, meta({2, 3, 5}), true);
  CHECK(s.rows == 6);
  CHECK(s.k == 8);
  CHECK(s.n == 5);
  const Tensor bias = meta({5}, DType::BF16);
  const auto t = vlm::cuda::check_matmul(meta({4, 8}), meta({8, 5}), &bias, meta({4, 5}), false);
  CHECK(t.n == 5);
  CHECK_THROWS_WITH(vlm::cuda::check_matmul(meta({4, 7}), meta({5, 8}), nullptr, meta({4, 5}), true),
                    Contains("matmul") && Contains("[4, 7]") && Contains("[5, 8]"));
  CHECK_THROWS_WITH(vlm::cuda::check_matmul(meta({4, 8}), meta({5, 8}), nullptr, meta({4, 6}), true),
                    Contains("out has shape [4, 6], expected [4, 5]"));
  CHECK_THROWS_WITH(vlm::cuda::check_matmul(meta({4, 8}, DType::F16), meta({5, 8}, DType::BF16), nullptr,
                                            meta({4, 5}), true),
                    Contains("x has dtype f16"));
  const Tensor wrong_bias = meta({8});
  CHECK_THROWS_WITH(vlm::cuda::check_matmul(meta({4, 8}), meta({5, 8}), &wrong_bias, meta({4, 5}), true),
                    Contains("bias has shape [8], expected [5]"));
}

TEST_CASE("cuda op checks: attention", "[cuda][checks]") {
  const Tensor q = meta({2, 3, 8, 16}), k = meta({2, 10, 2, 16}), v = meta({2, 10, 2, 12}), out = meta({2, 3, 8, 12});
  vlm::AttentionParams params;
  params.kv_len = 7;
  const Tensor head_mask = meta({1, 8, 3, 7});
  params.additive_mask = &head_mask;
  auto s = vlm::cuda::check_attention(q, k, v, out, params);
  CHECK(s.kv_len == 7);
  CHECK(s.kv_capacity == 10);
  CHECK(s.v_head_dim == 12);
  CHECK(s.mask_batch_stride == 0);
  CHECK(s.mask_head_stride == 3 * 7);
  const Tensor batch_mask = meta({2, 1, 3, 7});
  params.additive_mask = &batch_mask;
  s = vlm::cuda::check_attention(q, k, v, out, params);
  CHECK(s.mask_batch_stride == 3 * 7);
  CHECK(s.mask_head_stride == 0);
  const Tensor stale_mask = meta({2, 1, 3, 10});  // sized for the capacity, not kv_len
  params.additive_mask = &stale_mask;
  CHECK_THROWS_WITH(vlm::cuda::check_attention(q, k, v, out, params), Contains("additive_mask has shape [2, 1, 3, 10]"));
  params.additive_mask = nullptr;
  params.kv_len = 11;
  CHECK_THROWS_WITH(vlm::cuda::check_attention(q, k, v, out, params), Contains("kv_len 11 exceeds"));
  params.kv_len = -1;
  CHECK_THROWS_WITH(vlm::cuda::check_attention(q, meta({2, 10, 3, 16}), meta({2, 10, 3, 12}), out, params),
                    Contains("not a multiple"));
  const Tensor key_mask = meta({2, 7}, DType::U8);
  params.key_mask = &key_mask;
  CHECK_THROWS_WITH(vlm::cuda::check_attention(q, k, v, out, params), Contains("key_mask has shape [2, 7], expected [2, 10]"));
}

TEST_CASE("cuda op checks: rows, rotary, embedding, broadcast", "[cuda][checks]") {
  const auto rows = vlm::cuda::check_rms_norm(meta({2, 3, 64}), meta({64}, DType::BF16), meta({2, 3, 64}));
  CHECK(rows.rows == 6);
  CHECK(rows.cols == 64);
  CHECK_THROWS_WITH(vlm::cuda::check_layer_norm(meta({2, 64}), meta({63}), nullptr, meta({2, 64})),
                    Contains("layer_norm: weight has shape [63], expected [64]"));
  CHECK_THROWS_WITH(vlm::cuda::check_unary("scale", meta({2, 3}), meta({3, 2})), Contains("scale: out"));

  const auto r = vlm::cuda::check_rotary(meta({2, 5, 4, 64}), meta({1, 5, 32}), meta({1, 5, 32}), meta({2, 5, 4, 64}));
  CHECK(r.rotary_dim == 32);
  CHECK_FALSE(r.cos_per_batch);
  CHECK_THROWS_WITH(
      vlm::cuda::check_rotary(meta({2, 5, 4, 64}), meta({1, 5, 31}), meta({1, 5, 31}), meta({2, 5, 4, 64})),
      Contains("rotary") && Contains("[1, 5, 31]"));

  const auto e = vlm::cuda::check_embedding(meta({4}, DType::I32), meta({100, 8}, DType::BF16), meta({4, 8}));
  CHECK(e.vocab == 100);
  std::vector<int32_t> ids{3, 0, 99};
  const Tensor host_ids = Tensor::from(std::span<const int32_t>(ids), Shape{3});
  CHECK(vlm::cuda::checked_embedding_ids(host_ids, 100) == std::vector<int64_t>{3, 0, 99});
  CHECK_THROWS_WITH(vlm::cuda::checked_embedding_ids(host_ids, 99),
                    Contains("embedding: id 99 at position 2 is outside the table's [0, 99)"));
  std::vector<int64_t> negative{-1};
  CHECK_THROWS_AS(vlm::cuda::checked_embedding_ids(Tensor::from(std::span<const int64_t>(negative), Shape{1}), 5),
                  vlm::Error);

  const auto b = vlm::cuda::check_broadcast("mul", meta({2, 3, 4}), meta({3, 4}, DType::BF16), meta({2, 3, 4}));
  CHECK(b.count == 24);
  CHECK(b.b_count == 12);
  CHECK_THROWS_WITH(vlm::cuda::check_broadcast("add", meta({2, 3, 4}), meta({5}), meta({2, 3, 4})),
                    Contains("add: b [5] cannot be broadcast over a [2, 3, 4]"));
}

TEST_CASE("cuda op checks: concat and slice split around the axis", "[cuda][checks]") {
  const Tensor a = meta({2, 3, 4}), b = meta({2, 1, 4});
  const Tensor* parts[] = {&a, &b};
  const auto split = vlm::cuda::check_concat(parts, -2, meta({2, 4, 4}));
  CHECK(split.axis == 1);
  CHECK(split.outer == 2);
  CHECK(split.inner == 4);
  CHECK_THROWS_WITH(vlm::cuda::check_concat(parts, 1, meta({2, 5, 4})), Contains("add up to 4"));
  CHECK_THROWS_WITH(vlm::cuda::check_concat(parts, 0, meta({4, 3, 4})), Contains("[2, 1, 4]"));
  CHECK_THROWS_WITH(vlm::cuda::check_concat(parts, 3, meta({2, 4, 4})), Contains("axis 3 is out of range"));

  const auto s = vlm::cuda::check_slice(meta({2, 6, 4}), 1, 4, meta({2, 2, 4}));
  CHECK(s.outer == 2);
  CHECK(s.inner == 4);
  CHECK_THROWS_WITH(vlm::cuda::check_slice(meta({2, 6, 4}), 1, 5, meta({2, 2, 4})), Contains("[5, 7)"));
}

TEST_CASE("cuda op checks: permute and patchify plans gather the right elements", "[cuda][checks]") {
  const int perm[] = {2, 0, 1};
  const auto plan = vlm::cuda::check_permute(meta({2, 3, 4}), perm, meta({4, 2, 3}));
  const auto sources = gather_indices(plan, 24);
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j) CHECK(sources[size_t((k * 2 + i) * 3 + j)] == (i * 3 + j) * 4 + k);
  const int duplicate[] = {0, 0, 1};
  CHECK_THROWS_WITH(vlm::cuda::check_permute(meta({2, 3, 4}), duplicate, meta({2, 2, 3})),
                    Contains("(0, 0, 1) is not a permutation"));
  CHECK_THROWS_WITH(vlm::cuda::check_permute(meta({2, 3, 4}), perm, meta({2, 3, 4})), Contains("expected [4, 2, 3]"));

  // img [B, C, H, W] -> [B, (H/p)(W/p), C p p]: patches row-major over the grid, channel-major inside.
  const int64_t B = 2, C = 3, H = 4, W = 6, p = 2;
  const auto patch_plan = vlm::cuda::check_patchify(meta({B, C, H, W}), int(p), meta({B, 6, C * p * p}));
  const auto patch_sources = gather_indices(patch_plan, B * C * H * W);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t gy = 0; gy < H / p; ++gy)
      for (int64_t gx = 0; gx < W / p; ++gx)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t ky = 0; ky < p; ++ky)
            for (int64_t kx = 0; kx < p; ++kx) {
              const int64_t out = (b * (H / p) * (W / p) + gy * (W / p) + gx) * C * p * p + (c * p + ky) * p + kx;
              const int64_t in = ((b * C + c) * H + gy * p + ky) * W + gx * p + kx;
              CHECK(patch_sources[size_t(out)] == in);
            }
  CHECK_THROWS_WITH(vlm::cuda::check_patchify(meta({1, 3, 5, 6}), 2, meta({1, 6, 12})), Contains("patchify"));
}

TEST_CASE("cuda op checks: convert", "[cuda][checks]") {
  CHECK_NOTHROW(vlm::cuda::check_convert(meta({3}), meta({3}, DType::BF16)));
  CHECK_NOTHROW(vlm::cuda::check_convert(meta({3}, DType::I64), meta({3}, DType::I64)));
  CHECK_THROWS_WITH(vlm::cuda::check_convert(meta({3}, DType::I64), meta({3}, DType::I32)), Contains("i64 -> i32"));
  CHECK_THROWS_WITH(vlm::cuda::check_convert(meta({3}), meta({4})), Contains("convert: out has shape [4]"));
}
