// attention against a double-precision reference. Outputs are convex combinations of V rows in [-1, 1],
// so the tolerance is absolute 2e-6 plus relative 1e-5 (f32 dot products, exp and accumulation).
// K/V rows past kv_len are NaN: reading any of them would poison the output.
#include <cmath>
#include <limits>
#include <optional>

#include "backend/backend_test_util.hpp"

namespace vlm::test {
namespace {

constexpr double kRel = 1e-5, kAbs = 2e-6;

struct AttentionCase {
  int64_t batch = 1, q_len = 1, q_heads = 1, kv_heads = 1, capacity = 1, head_dim = 8, v_dim = 8;
  AttentionParams params;
};

struct Inputs {
  Tensor q, k, v;
};

Inputs make_inputs(const AttentionCase& c, uint32_t seed) {
  Inputs in{random_f32({c.batch, c.q_len, c.q_heads, c.head_dim}, seed),
            random_f32({c.batch, c.capacity, c.kv_heads, c.head_dim}, seed + 1),
            random_f32({c.batch, c.capacity, c.kv_heads, c.v_dim}, seed + 2)};
  const int64_t valid = c.params.kv_len < 0 ? c.capacity : c.params.kv_len;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t j = valid; j < c.capacity; ++j) {
      float* k_row = in.k.data<float>() + (b * c.capacity + j) * c.kv_heads * c.head_dim;
      float* v_row = in.v.data<float>() + (b * c.capacity + j) * c.kv_heads * c.v_dim;
      std::fill(k_row, k_row + c.kv_heads * c.head_dim, nan);
      std::fill(v_row, v_row + c.kv_heads * c.v_dim, nan);
    }
  return in;
}

std::vector<double> reference_attention(const AttentionCase& c, const Inputs& in) {
  const AttentionParams& p = c.params;
  const int64_t kv_len = p.kv_len < 0 ? c.capacity : p.kv_len;
  const int64_t group = c.q_heads / c.kv_heads;
  std::vector<double> out(size_t(c.batch * c.q_len * c.q_heads * c.v_dim), 0.0);
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.q_len; ++i)
      for (int64_t h = 0; h < c.q_heads; ++h) {
        const int64_t hk = h / group;
        std::vector<double> scores;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < kv_len; ++j) {
          if (p.causal && j > p.q_offset + i) continue;
          if (p.window > 0 && j <= p.q_offset + i - p.window) continue;
          if (p.key_mask && p.key_mask->item(b * c.capacity + j) == 0) continue;
          double s = 0.0;
          for (int64_t d = 0; d < c.head_dim; ++d)
            s += in.q.item(((b * c.q_len + i) * c.q_heads + h) * c.head_dim + d) *
                 in.k.item(((b * c.capacity + j) * c.kv_heads + hk) * c.head_dim + d);
          s *= p.scale;
          if (const Tensor* m = p.additive_mask) {
            const int64_t mb = m->dim(0) == 1 ? 0 : b, mh = m->dim(1) == 1 ? 0 : h;
            s += m->item(((mb * m->dim(1) + mh) * c.q_len + i) * kv_len + j);
          }
          if (std::isinf(s) && s < 0) continue;
          scores.push_back(s);
          keys.push_back(j);
        }
        if (scores.empty()) continue;  // fully masked row: zeros
        const double max = *std::max_element(scores.begin(), scores.end());
        double sum = 0.0;
        for (double& s : scores) sum += s = std::exp(s - max);
        for (size_t n = 0; n < keys.size(); ++n)
          for (int64_t d = 0; d < c.v_dim; ++d)
            out[size_t(((b * c.q_len + i) * c.q_heads + h) * c.v_dim + d)] +=
                scores[n] / sum * in.v.item(((b * c.capacity + keys[n]) * c.kv_heads + hk) * c.v_dim + d);
      }
  return out;
}

Tensor run_attention(const AttentionCase& c, const Inputs& in) {
  Tensor out = cpu().empty({c.batch, c.q_len, c.q_heads, c.v_dim}, DType::F32);
  cpu().attention(in.q, in.k, in.v, out, c.params);
  return out;
}

void check_attention(AttentionCase c, uint32_t seed) {
  if (c.params.scale == 1.0f) c.params.scale = 1.0f / std::sqrt(float(c.head_dim));
  const Inputs in = make_inputs(c, seed);
  require_close(run_attention(c, in), reference_attention(c, in), kRel, kAbs);
}

// The same case with K and V stored as bf16: the reference sees exactly the stored (rounded) values.
void check_bf16_cache_attention(const AttentionCase& c, uint32_t seed) {
  Inputs in = make_inputs(c, seed);
  const Tensor k16 = in.k.to(DType::BF16), v16 = in.v.to(DType::BF16);
  in.k = k16.to(DType::F32);
  in.v = v16.to(DType::F32);
  Tensor out = cpu().empty({c.batch, c.q_len, c.q_heads, c.v_dim}, DType::F32);
  cpu().attention(in.q, k16, v16, out, c.params);
  require_close(out, reference_attention(c, in), kRel, kAbs);
}

}  // namespace

TEST_CASE("attention: multi-head, no mask, odd head size and Dv != D", "[cpu][attention]") {
  check_attention({.batch = 2, .q_len = 5, .q_heads = 3, .kv_heads = 3, .capacity = 7, .head_dim = 20, .v_dim = 12, .params = {}},
                  1);
}

TEST_CASE("attention: grouped-query heads, causal prefill across query blocks", "[cpu][attention]") {
  AttentionCase c{.batch = 1, .q_len = 37, .q_heads = 6, .kv_heads = 2, .capacity = 37, .head_dim = 64,
                  .v_dim = 64, .params = {}};
  c.params.causal = true;
  check_attention(c, 2);
}

TEST_CASE("attention: KV cache with kv_len < capacity, decode and chunked prefill", "[cpu][attention]") {
  AttentionCase decode{.batch = 2, .q_len = 1, .q_heads = 8, .kv_heads = 2, .capacity = 32, .head_dim = 16,
                       .v_dim = 16, .params = {}};
  decode.params.causal = true;
  decode.params.q_offset = 10;
  decode.params.kv_len = 11;
  check_attention(decode, 3);

  AttentionCase chunk = decode;
  chunk.q_len = 3;
  chunk.params.q_offset = 8;
  check_attention(chunk, 4);

  // Non-causal cross-attention over a partly filled cache.
  AttentionCase cross = decode;
  cross.q_len = 4;
  cross.params.causal = false;
  cross.params.kv_len = 5;
  check_attention(cross, 5);
}

TEST_CASE("attention: sliding window in prefill across query blocks, chunked prefill and decode", "[cpu][attention]") {
  AttentionCase prefill{.batch = 1, .q_len = 37, .q_heads = 4, .kv_heads = 2, .capacity = 40, .head_dim = 16,
                        .v_dim = 16, .params = {}};
  prefill.params.causal = true;
  prefill.params.window = 5;
  prefill.params.kv_len = 37;
  check_attention(prefill, 30);

  AttentionCase chunk = prefill;  // positions 20..22 of a longer sequence
  chunk.q_len = 3;
  chunk.params.q_offset = 20;
  chunk.params.kv_len = 23;
  check_attention(chunk, 31);

  AttentionCase decode = prefill;
  decode.q_len = 1;
  decode.params.q_offset = 30;
  decode.params.kv_len = 31;
  decode.params.window = 4;
  check_attention(decode, 32);

  AttentionCase wide = decode;  // a window longer than the sequence changes nothing
  wide.params.window = 1000;
  check_attention(wide, 33);
}

TEST_CASE("attention: a bf16 KV cache gives the attention of its rounded keys and values", "[cpu][attention]") {
  for (const int64_t q_len : {int64_t(1), int64_t(9)}) {
    AttentionCase c{.batch = 2, .q_len = q_len, .q_heads = 4, .kv_heads = 2, .capacity = 24, .head_dim = 16,
                    .v_dim = 16, .params = {}};
    c.params.scale = 0.25f;
    c.params.causal = true;
    c.params.q_offset = 20 - q_len;
    c.params.kv_len = 20;
    check_bf16_cache_attention(c, 40 + uint32_t(q_len));
  }
}

TEST_CASE("attention: key padding mask, a fully masked batch row gives zeros", "[cpu][attention]") {
  AttentionCase c{.batch = 2, .q_len = 4, .q_heads = 2, .kv_heads = 1, .capacity = 6, .head_dim = 8, .v_dim = 8, .params = {}};
  Tensor mask = Tensor::zeros({2, 6}, DType::U8);
  for (int64_t j : {0, 2, 3, 5}) mask.data<uint8_t>()[j] = 1;  // batch 1 stays all zero
  c.params.key_mask = &mask;
  check_attention(c, 6);
  const Inputs in = make_inputs(c, 6);
  c.params.scale = 0.3f;
  const Tensor out = run_attention(c, in);
  for (int64_t e = out.numel() / 2; e < out.numel(); ++e) REQUIRE(out.item(e) == 0.0);
}

TEST_CASE("attention: additive masks broadcast over batch and heads, -inf rows", "[cpu][attention]") {
  AttentionCase c{.batch = 2, .q_len = 3, .q_heads = 4, .kv_heads = 2, .capacity = 9, .head_dim = 8, .v_dim = 8, .params = {}};
  c.params.kv_len = 5;
  const float inf = std::numeric_limits<float>::infinity();

  Tensor shared = random_f32({1, 1, 3, 5}, 7, -2.0f, 2.0f);
  shared.data<float>()[1] = -inf;  // query 0 cannot see key 1
  c.params.additive_mask = &shared;
  check_attention(c, 8);

  Tensor per_head = random_f32({2, 4, 3, 5}, 9, -2.0f, 2.0f);
  std::fill(per_head.data<float>() + 5, per_head.data<float>() + 10, -inf);  // b0 h0 query 1: nothing visible
  c.params.additive_mask = &per_head;
  c.params.causal = true;
  c.params.q_offset = 2;
  check_attention(c, 10);

  // Decoding (one query) batches a kv head's query heads into one GEMM: masks must still follow each head.
  AttentionCase decode = c;
  decode.q_len = 1;
  decode.params.q_offset = 4;
  Tensor decode_per_head = random_f32({2, 4, 1, 5}, 14, -4.0f, 4.0f);
  decode.params.additive_mask = &decode_per_head;
  check_attention(decode, 15);

  Tensor per_batch = random_f32({2, 1, 3, 5}, 11, -2.0f, 2.0f);
  c.params.additive_mask = &per_batch;
  Tensor mask = Tensor::zeros({2, 9}, DType::U8);
  for (int64_t j = 0; j < 18; j += 2) mask.data<uint8_t>()[j] = 1;
  c.params.key_mask = &mask;
  check_attention(c, 12);
}

// The kernel walks keys in blocks of 256 with a running maximum: sequences past one block, windows that
// start and end inside blocks, masked keys and whole masked blocks, and keys whose scores grow along the
// sequence (so the running maximum changes block after block) must give the one-pass softmax.
TEST_CASE("attention: long sequences across key blocks (online softmax)", "[cpu][attention]") {
  AttentionCase prefill{.batch = 1, .q_len = 70, .q_heads = 4, .kv_heads = 2, .capacity = 700, .head_dim = 16,
                        .v_dim = 12, .params = {}};
  prefill.params.causal = true;
  prefill.params.q_offset = 600;  // chunked prefill of positions 600..669 over 670 keys
  prefill.params.kv_len = 670;
  check_attention(prefill, 50);

  AttentionCase full = prefill;  // non-causal over 3 blocks, each query block sees every key
  full.q_len = 130;
  full.params.causal = false;
  full.params.q_offset = 0;
  full.params.kv_len = 600;
  check_attention(full, 51);

  AttentionCase window = prefill;  // windows of 300 keys straddle block boundaries
  window.params.window = 300;
  check_attention(window, 52);
  AttentionCase decode = window;
  decode.q_len = 1;
  decode.params.q_offset = 669;
  check_attention(decode, 53);

  // Keys 0..511 (two whole blocks) padded out, then every other key: the first blocks contribute nothing.
  Tensor mask = Tensor::zeros({1, 700}, DType::U8);
  for (int64_t j = 512; j < 700; j += 2) mask.data<uint8_t>()[j] = 1;
  AttentionCase masked = prefill;
  masked.params.key_mask = &mask;
  check_attention(masked, 54);

  // Growing scores: keys scaled by their position, so each block holds a new maximum.
  AttentionCase growing = full;
  growing.q_len = 3;
  growing.params.scale = 0.25f;
  Inputs in = make_inputs(growing, 55);
  for (int64_t j = 0; j < growing.params.kv_len; ++j)
    for (int64_t e = 0; e < growing.kv_heads * growing.head_dim; ++e)
      in.k.data<float>()[j * growing.kv_heads * growing.head_dim + e] *= 1.0f + float(j) / 100.0f;
  for (int64_t e = 0; e < in.q.numel(); ++e) in.q.data<float>()[e] = std::abs(in.q.data<float>()[e]);
  for (int64_t e = 0; e < in.k.numel(); ++e) in.k.data<float>()[e] = std::abs(in.k.data<float>()[e]);
  require_close(run_attention(growing, in), reference_attention(growing, in), kRel, kAbs);

  // A bf16 cache over several blocks.
  AttentionCase cached = prefill;
  cached.params.scale = 0.25f;
  check_bf16_cache_attention(cached, 56);
}

TEST_CASE("attention: kv_len 0 gives zeros", "[cpu][attention]") {
  AttentionCase c{.batch = 1, .q_len = 2, .q_heads = 2, .kv_heads = 2, .capacity = 4, .params = {}};
  c.params.kv_len = 0;
  check_attention(c, 13);
}

TEST_CASE("attention rejects inconsistent arguments", "[cpu][attention][errors]") {
  const Tensor q = random_f32({1, 2, 6, 8}, 20), k = random_f32({1, 5, 4, 8}, 21), v = random_f32({1, 5, 4, 8}, 22);
  Tensor out = cpu().empty({1, 2, 6, 8}, DType::F32);
  REQUIRE_THROWS_WITH(cpu().attention(q, k, v, out, {}), Catch::Contains("attention") && Catch::Contains("multiple"));

  const Tensor k2 = random_f32({1, 5, 2, 8}, 23), v2 = random_f32({1, 5, 2, 8}, 24);
  REQUIRE_NOTHROW(cpu().attention(q, k2, v2, out, {}));
  AttentionParams too_long;
  too_long.kv_len = 6;
  REQUIRE_THROWS_WITH(cpu().attention(q, k2, v2, out, too_long), Catch::Contains("kv_len"));
  Tensor bad_mask = Tensor::zeros({1, 4}, DType::U8);
  AttentionParams masked;
  masked.key_mask = &bad_mask;
  REQUIRE_THROWS_WITH(cpu().attention(q, k2, v2, out, masked), Catch::Contains("key_mask"));
  Tensor bad_additive = Tensor::zeros({1, 1, 2, 4}, DType::F32);
  AttentionParams additive;
  additive.additive_mask = &bad_additive;
  REQUIRE_THROWS_WITH(cpu().attention(q, k2, v2, out, additive), Catch::Contains("additive_mask"));
  const Tensor k_wrong_dim = random_f32({1, 5, 2, 7}, 25);
  REQUIRE_THROWS_AS(cpu().attention(q, k_wrong_dim, v2, out, {}), Error);
  Tensor out_wrong = cpu().empty({1, 2, 6, 7}, DType::F32);
  REQUIRE_THROWS_AS(cpu().attention(q, k2, v2, out_wrong, {}), Error);
  REQUIRE_THROWS_AS(cpu().attention(q.to(DType::BF16), k2, v2, out, {}), Error);
}

}  // namespace vlm::test
