// The two buffers a decode step reuses: Workspace (scratch activations) must stop allocating once shapes
// repeat, which is what makes steady-state decoding allocation-free; KVCache must place keys / values at
// the right positions of each sequence's slot, keep slots independent, and refuse to overflow with a clear
// error.
#include <catch2/catch.hpp>

#include "vlm/nn/kv_cache.hpp"
#include "vlm/nn/workspace.hpp"
#include "vlm/registry/backends.hpp"

using namespace vlm;
using Catch::Matchers::Contains;

namespace {

Backend& cpu() {
  static const std::shared_ptr<Backend> backend = registry::create_backend("cpu");
  return *backend;
}

// k/v [steps, heads, dim] for one sequence whose values encode (sequence tag, position, channel), so
// placement is checkable.
Tensor encoded(int64_t tag, int64_t steps, int64_t heads, int64_t dim, int64_t first_position, float sign) {
  Tensor t = Tensor::zeros(Shape{steps, heads, dim}, DType::F32);
  float* p = t.data<float>();
  for (int64_t s = 0; s < steps; ++s)
    for (int64_t c = 0; c < heads * dim; ++c) *p++ = sign * float(tag * 10000 + (first_position + s) * 100 + c);
  return t;
}

}  // namespace

TEST_CASE("Workspace reuses a slot when the same shape comes back", "[generate][workspace]") {
  Workspace ws(cpu());
  CHECK(ws.bytes_reserved() == 0);
  const Tensor first = ws.get("hidden", Shape{2, 1, 64});
  const size_t reserved = ws.bytes_reserved();
  CHECK(reserved == 2 * 64 * sizeof(float));
  // A decode step asks for the same slots with the same shapes every time: nothing may grow.
  for (int step = 0; step < 100; ++step) {
    const Tensor again = ws.get("hidden", Shape{2, 1, 64});
    CHECK(again.raw() == first.raw());
    CHECK(again.shape() == Shape{2, 1, 64});
  }
  CHECK(ws.bytes_reserved() == reserved);
  // Smaller requests and other dtypes of no more bytes fit in the existing buffer.
  CHECK(ws.get("hidden", Shape{1, 1, 64}).raw() == first.raw());
  CHECK(ws.get("hidden", Shape{2, 64}, DType::I32).raw() == first.raw());
  CHECK(ws.bytes_reserved() == reserved);
}

TEST_CASE("Workspace slots are independent", "[generate][workspace]") {
  Workspace ws(cpu());
  const Tensor a = ws.get("a", Shape{16});
  const Tensor b = ws.get("b", Shape{16});
  CHECK(a.raw() != b.raw());
  CHECK(ws.bytes_reserved() == 2 * 16 * sizeof(float));
}

TEST_CASE("Workspace grows geometrically for a lengthening sequence", "[generate][workspace]") {
  // A request 1 element larger than the buffer reserves 1.5x, so 1000 growing requests reallocate
  // O(log n) times (log_1.5(1000) ~ 17) rather than 1000 times.
  Workspace ws(cpu());
  ws.get("scores", Shape{100}, DType::U8);
  CHECK(ws.bytes_reserved() == 100);
  ws.get("scores", Shape{101}, DType::U8);
  CHECK(ws.bytes_reserved() == 150);
  int reallocations = 0;
  size_t previous = ws.bytes_reserved();
  for (int64_t n = 151; n < 150 + 1000; ++n) {
    ws.get("scores", Shape{n}, DType::U8);
    if (ws.bytes_reserved() != previous) ++reallocations;
    previous = ws.bytes_reserved();
  }
  // 150 -> 225 -> 337 -> 505 -> 757 -> 1135 -> 1702: six growths cover the last request (1149 bytes).
  CHECK(reallocations == 6);
  CHECK(ws.bytes_reserved() == 1702);
}

TEST_CASE("KVCache keeps each sequence at its own length in its own slot", "[generate][kv_cache]") {
  const int64_t layers = 2, slots = 3, capacity = 8, heads = 2, dim = 4;
  KVCache cache(cpu(), layers, slots, capacity, heads, dim);
  CHECK(cache.capacity() == capacity);
  CHECK(cache.slots() == slots);
  const int a = cache.acquire(), b = cache.acquire();
  CHECK(a != b);
  CHECK(cache.in_use() == 2);
  CHECK(cache.length(a) == 0);

  // Sequence a: a prompt of 3 positions, then one decode position; b: a prompt of 1.
  for (int layer = 0; layer < layers; ++layer) {
    cache.write(layer, a, encoded(1, 3, heads, dim, 0, 1.0f), encoded(1, 3, heads, dim, 0, -1.0f));
    cache.write(layer, b, encoded(2, 1, heads, dim, 0, 1.0f), encoded(2, 1, heads, dim, 0, -1.0f));
  }
  CHECK(cache.length(a) == 0);  // only advance() moves a sequence on
  cache.advance(a, 3);
  cache.advance(b, 1);
  for (int layer = 0; layer < layers; ++layer)
    cache.write(layer, a, encoded(1, 1, heads, dim, 3, 1.0f), encoded(1, 1, heads, dim, 3, -1.0f));
  cache.advance(a, 1);
  CHECK(cache.length(a) == 4);
  CHECK(cache.length(b) == 1);

  auto check_slot = [&](int slot, int64_t tag, int64_t positions) {
    const Tensor keys = cpu().download(cache.keys(1, slot));
    const Tensor values = cpu().download(cache.values(1, slot));
    REQUIRE(keys.shape() == Shape{1, capacity, heads, dim});
    for (int64_t s = 0; s < positions; ++s)
      for (int64_t c = 0; c < heads * dim; ++c) {
        const float want = float(tag * 10000 + s * 100 + c);
        INFO("slot " << slot << " position " << s << " channel " << c);
        CHECK(keys.data<float>()[s * heads * dim + c] == want);
        CHECK(values.data<float>()[s * heads * dim + c] == -want);
      }
  };
  check_slot(a, 1, 4);
  check_slot(b, 2, 1);

  // A released slot is free again and starts empty.
  cache.release(a);
  CHECK(cache.in_use() == 1);
  CHECK_THROWS_WITH(cache.length(a), Contains("not an active sequence"));
  const int c = cache.acquire();
  CHECK(cache.length(c) == 0);
  cache.acquire();
  CHECK_THROWS_WITH(cache.acquire(), Contains("all 3 sequence slots are in use"));
}

TEST_CASE("KVCache in bf16 takes half the memory and stores rounded keys and values", "[generate][kv_cache]") {
  KVCache f32(cpu(), 2, 2, 8, 2, 4), bf16(cpu(), 2, 2, 8, 2, 4, DType::BF16);
  CHECK(bf16.bytes() * 2 == f32.bytes());
  CHECK(bf16.dtype() == DType::BF16);
  const int slot = bf16.acquire();
  Tensor k = encoded(1, 3, 2, 4, 0, 1.0f);
  k.data<float>()[0] = 1.0f + 1.0f / 512;  // not representable in bf16: rounds to 1
  bf16.write(0, slot, k, k);
  bf16.advance(slot, 3);
  const Tensor stored = cpu().download(bf16.keys(0, slot)).to(DType::F32);
  CHECK(stored.data<float>()[0] == 1.0f);
  const Tensor rounded = k.to(DType::BF16).to(DType::F32);
  for (int64_t i = 0; i < k.numel(); ++i) CHECK(stored.data<float>()[i] == rounded.data<float>()[i]);
  CHECK_THROWS_WITH(KVCache(cpu(), 1, 1, 4, 1, 2, DType::F16), Contains("f32 or bf16"));
}

TEST_CASE("KVCache refuses to overflow a sequence's capacity with a clear error", "[generate][kv_cache]") {
  const int64_t capacity = 4, heads = 1, dim = 2;
  KVCache cache(cpu(), 1, 1, capacity, heads, dim);
  const int slot = cache.acquire();

  SECTION("advance and write beyond capacity") {
    CHECK_THROWS_WITH(cache.check_room(slot, 5), Contains("KV cache full"));
    cache.write(0, slot, encoded(0, 4, heads, dim, 0, 1), encoded(0, 4, heads, dim, 0, 1));  // exactly full
    cache.advance(slot, 4);
    CHECK(cache.length(slot) == 4);
    CHECK_THROWS_WITH(cache.advance(slot, 1), Contains("KV cache full"));
  }
  SECTION("write beyond capacity names what was used and requested") {
    cache.write(0, slot, encoded(0, 3, heads, dim, 0, 1), encoded(0, 3, heads, dim, 0, 1));
    cache.advance(slot, 3);
    CHECK_THROWS_WITH(cache.write(0, slot, encoded(0, 2, heads, dim, 3, 1), encoded(0, 2, heads, dim, 3, 1)),
                      Contains("KV cache full") && Contains("3 positions used of 4") && Contains("2 more"));
    CHECK(cache.length(slot) == 3);  // a refused write changes nothing
  }
  SECTION("keys of the wrong shape, an unknown layer or slot") {
    const Tensor wrong = Tensor::zeros(Shape{1, heads + 1, dim}, DType::F32);
    CHECK_THROWS_WITH(cache.write(0, slot, wrong, wrong), Contains("do not match"));
    const Tensor k = encoded(0, 1, heads, dim, 0, 1);
    const Tensor v_other = Tensor::zeros(Shape{2, heads, dim}, DType::F32);
    CHECK_THROWS_WITH(cache.write(0, slot, k, v_other), Contains("do not match"));
    CHECK_THROWS_WITH(cache.write(1, slot, k, k), Contains("layer 1 out of range"));
    CHECK_THROWS_WITH(cache.write(-1, slot, k, k), Contains("out of range"));
    CHECK_THROWS_WITH(cache.write(0, slot + 1, k, k), Contains("not an active sequence"));
  }
}
