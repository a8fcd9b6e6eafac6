// Tensor basics the backends rely on: allocation, borrowed storage lifetime, views, and dtype conversion
// at the edges of bf16 and f16 (ties, subnormals, overflow, inf, NaN).
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "vlm/tensor/tensor.hpp"
#include "vlm/util/error.hpp"

namespace vlm {
namespace {

float from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }

// x -> dtype -> f32, through Tensor::to.
float round_trip(float x, DType dtype) {
  const std::vector<float> v = {x};
  return float(Tensor::from<float>(v, {1}).to(dtype).item(0));
}

}  // namespace

TEST_CASE("Tensor::zeros is zero-filled, 64-byte aligned, with the right size", "[tensor]") {
  const Tensor t = Tensor::zeros({3, 5}, DType::BF16);
  REQUIRE(t.defined());
  REQUIRE(t.numel() == 15);
  REQUIRE(t.nbytes() == 30);
  REQUIRE(t.is_host());
  REQUIRE(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
  for (int64_t i = 0; i < t.numel(); ++i) REQUIRE(t.item(i) == 0.0);
  REQUIRE_FALSE(Tensor().defined());
}

TEST_CASE("a borrowed tensor keeps its owner alive", "[tensor]") {
  auto storage = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4});
  const std::weak_ptr<std::vector<float>> watch = storage;
  Tensor view = Tensor::borrow(storage->data(), {2, 2}, DType::F32, Device::cpu(), storage);
  storage.reset();
  REQUIRE_FALSE(watch.expired());
  REQUIRE(view.item(3) == 4.0);
  Tensor row = view.rows(1, 1);  // views share the owner too
  view = Tensor();
  REQUIRE_FALSE(watch.expired());
  REQUIRE(row.item(0) == 3.0);
  row = Tensor();
  REQUIRE(watch.expired());
}

TEST_CASE("reshape and rows are views; bad requests are errors", "[tensor]") {
  std::vector<float> values(12);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  const Tensor t = Tensor::from<float>(values, {3, 4});
  const Tensor r = t.reshape({2, 6});
  REQUIRE(r.raw() == t.raw());
  REQUIRE(r.shape() == Shape{2, 6});
  REQUIRE_THROWS_AS(t.reshape({5, 2}), Error);
  const Tensor middle = t.rows(1, 2);
  REQUIRE(middle.shape() == Shape{2, 4});
  REQUIRE(middle.item(0) == 4.0);
  REQUIRE(middle.data<float>() == t.data<float>() + 4);
  REQUIRE_THROWS_AS(t.rows(2, 2), Error);
  REQUIRE_THROWS_AS(t.rows(-1, 1), Error);
  REQUIRE(t.clone().raw() != t.raw());
}

TEST_CASE("bf16 conversion: round-to-nearest-even, subnormals, inf, NaN", "[tensor][dtype]") {
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE(round_trip(1.0f + 0x1p-8f, DType::BF16) == 1.0f);            // tie -> even (down)
  REQUIRE(round_trip(1.0f + 3 * 0x1p-8f, DType::BF16) == 1.0f + 0x1p-6f);  // tie -> even (up)
  REQUIRE(round_trip(1.0f + 0x1p-8f + 0x1p-20f, DType::BF16) == 1.0f + 0x1p-7f);  // above the tie
  REQUIRE(round_trip(from_bits(0x00010000u), DType::BF16) == from_bits(0x00010000u));  // subnormal kept
  REQUIRE(round_trip(from_bits(0x00008000u), DType::BF16) == 0.0f);  // half the smallest subnormal: tie -> 0
  REQUIRE(round_trip(inf, DType::BF16) == inf);
  REQUIRE(round_trip(-inf, DType::BF16) == -inf);
  REQUIRE(round_trip(3.4e38f, DType::BF16) == inf);  // rounds past the largest finite bf16
  REQUIRE(std::signbit(round_trip(-0.0f, DType::BF16)));
  REQUIRE(std::isnan(round_trip(std::numeric_limits<float>::quiet_NaN(), DType::BF16)));
  REQUIRE(std::isnan(round_trip(from_bits(0x7f800001u), DType::BF16)));  // signalling NaN must not become inf
}

TEST_CASE("f16 conversion: ties, subnormals, overflow, inf, NaN", "[tensor][dtype]") {
  const float inf = std::numeric_limits<float>::infinity();
  REQUIRE(round_trip(1.0f + 0x1p-11f, DType::F16) == 1.0f);
  REQUIRE(round_trip(1.0f + 3 * 0x1p-11f, DType::F16) == 1.0f + 0x1p-9f);
  REQUIRE(round_trip(0x1p-14f, DType::F16) == 0x1p-14f);   // smallest normal
  REQUIRE(round_trip(0x1p-24f, DType::F16) == 0x1p-24f);   // smallest subnormal
  REQUIRE(round_trip(0x1p-25f, DType::F16) == 0.0f);       // tie -> even (zero)
  REQUIRE(round_trip(3 * 0x1p-25f, DType::F16) == 0x1p-23f);  // tie -> even (up)
  REQUIRE(round_trip(5 * 0x1p-24f, DType::F16) == 5 * 0x1p-24f);
  REQUIRE(round_trip(65504.0f, DType::F16) == 65504.0f);
  REQUIRE(round_trip(65519.0f, DType::F16) == 65504.0f);
  REQUIRE(round_trip(65520.0f, DType::F16) == inf);  // the tie above the largest half rounds to inf
  REQUIRE(round_trip(-inf, DType::F16) == -inf);
  REQUIRE(std::isnan(round_trip(std::numeric_limits<float>::quiet_NaN(), DType::F16)));
  // Every f16 bit pattern survives f16 -> f32 -> f16.
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const float f = f16_to_f32(uint16_t(bits));
    if (std::isnan(f)) continue;
    REQUIRE(f32_to_f16(f) == bits);
  }
}

TEST_CASE("integer conversions", "[tensor][dtype]") {
  const std::vector<int64_t> ids = {0, -7, 123456};
  const Tensor i64 = Tensor::from<int64_t>(ids, {3});
  const Tensor i32 = i64.to(DType::I32);
  REQUIRE(i32.dtype() == DType::I32);
  for (int64_t i = 0; i < 3; ++i) REQUIRE(i32.item(i) == double(ids[size_t(i)]));
  const Tensor f = i32.to(DType::F32);
  REQUIRE(f.item(2) == 123456.0);
}

}  // namespace vlm
