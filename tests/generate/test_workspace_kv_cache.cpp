// The two buffers a decode step reuses: Workspace (scratch activations) must stop allocating once shapes
// repeat, which is what makes steady-state decoding allocation-free; KVCache must place keys / values at
// the right positions and refuse to overflow its capacity with a clear error.
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

// k/v for `steps` positions whose value encodes (batch row, position, channel) so placement is checkable.
Tensor encoded(int64_t batch, int64_t steps, int64_t heads, int64_t dim, int64_t first_position, float sign) {
  Tensor t = Tensor::zeros(Shape{batch, steps, heads, dim}, DType::F32);
  float* p = t.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < steps; ++s)
      for (int64_t c = 0; c < heads * dim; ++c)
        *p++ = sign * float(b * 10000 + (first_position + s) * 100 + c);
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

TEST_CASE("KVCache stores keys and values at [length, length + S) of every row", "[generate][kv_cache]") {
  const int64_t layers = 2, batch = 2, capacity = 8, heads = 2, dim = 4;
  KVCache cache(cpu(), layers, batch, capacity, heads, dim);
  CHECK(cache.length() == 0);
  CHECK(cache.capacity() == capacity);

  // Prefill of 3 positions; row 0 is left-padded by one.
  const std::vector<int64_t> prompt_mask{0, 1, 1, 1, 1, 1};
  cache.prepare(prompt_mask, 3);
  for (int layer = 0; layer < layers; ++layer)
    cache.write(layer, encoded(batch, 3, heads, dim, 0, 1.0f), encoded(batch, 3, heads, dim, 0, -1.0f));
  CHECK(cache.length() == 0);  // only commit() advances
  cache.commit();
  CHECK(cache.length() == 3);

  // One decode step.
  const std::vector<int64_t> step_mask{1, 1};
  cache.prepare(step_mask, 1);
  for (int layer = 0; layer < layers; ++layer)
    cache.write(layer, encoded(batch, 1, heads, dim, 3, 1.0f), encoded(batch, 1, heads, dim, 3, -1.0f));
  cache.commit();
  CHECK(cache.length() == 4);

  const Tensor keys = cpu().download(cache.keys(1));
  const Tensor values = cpu().download(cache.values(1));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < 4; ++s)
      for (int64_t c = 0; c < heads * dim; ++c) {
        const int64_t at = (b * capacity + s) * heads * dim + c;
        const float want = float(b * 10000 + s * 100 + c);
        INFO("row " << b << " position " << s << " channel " << c);
        CHECK(keys.data<float>()[at] == want);
        CHECK(values.data<float>()[at] == -want);
      }
  const Tensor mask = cpu().download(cache.key_mask());
  const std::vector<uint8_t> want_mask{0, 1, 1, 1, 0, 0, 0, 0,  // row 0: padding, 3 tokens
                                       1, 1, 1, 1, 0, 0, 0, 0};
  CHECK(std::vector<uint8_t>(mask.data<uint8_t>(), mask.data<uint8_t>() + batch * capacity) == want_mask);

  cache.reset();
  CHECK(cache.length() == 0);
  const Tensor cleared = cpu().download(cache.key_mask());
  for (int64_t i = 0; i < batch * capacity; ++i) CHECK(cleared.data<uint8_t>()[i] == 0);
}

TEST_CASE("KVCache refuses to overflow its capacity with a clear error", "[generate][kv_cache]") {
  const int64_t batch = 1, capacity = 4, heads = 1, dim = 2;
  KVCache cache(cpu(), 1, batch, capacity, heads, dim);
  const std::vector<int64_t> ones(5, 1);

  SECTION("prepare beyond capacity") {
    CHECK_THROWS_WITH(cache.prepare(std::span(ones).first(5), 5), Contains("KV cache full"));
    cache.prepare(std::span(ones).first(4), 4);  // exactly full is fine
    cache.write(0, encoded(batch, 4, heads, dim, 0, 1), encoded(batch, 4, heads, dim, 0, 1));
    cache.commit();
    CHECK(cache.length() == 4);
    CHECK_THROWS_WITH(cache.prepare(std::span(ones).first(1), 1), Contains("KV cache full"));
  }
  SECTION("write beyond capacity names what was used and requested") {
    cache.prepare(std::span(ones).first(3), 3);
    cache.write(0, encoded(batch, 3, heads, dim, 0, 1), encoded(batch, 3, heads, dim, 0, 1));
    cache.commit();
    CHECK_THROWS_WITH(cache.write(0, encoded(batch, 2, heads, dim, 3, 1), encoded(batch, 2, heads, dim, 3, 1)),
                      Contains("KV cache full") && Contains("3 positions used of 4") && Contains("2 more"));
    CHECK(cache.length() == 3);  // a refused write changes nothing
  }
  SECTION("mask of the wrong size") {
    CHECK_THROWS_WITH(cache.prepare(std::span(ones).first(3), 2), Contains("mask of 3 values"));
  }
  SECTION("keys of the wrong shape, or an unknown layer") {
    const Tensor wrong = Tensor::zeros(Shape{batch, 1, heads + 1, dim}, DType::F32);
    CHECK_THROWS_WITH(cache.write(0, wrong, wrong), Contains("do not match"));
    const Tensor k = encoded(batch, 1, heads, dim, 0, 1);
    const Tensor v_other = Tensor::zeros(Shape{batch, 2, heads, dim}, DType::F32);
    CHECK_THROWS_WITH(cache.write(0, k, v_other), Contains("do not match"));
    CHECK_THROWS_WITH(cache.write(1, k, k), Contains("layer 1 out of range"));
    CHECK_THROWS_WITH(cache.write(-1, k, k), Contains("out of range"));
  }
}
