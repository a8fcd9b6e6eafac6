// Norms, activations, softmax, rotary, embedding, elementwise ops, convert and the backend's bookkeeping,
// each against a scalar double reference. Weights are tested in every stored dtype; the reference uses
// the weight's stored (rounded) values, so the tolerance is f32 arithmetic only (rel 1e-5 unless stated).
#include <limits>
#include <optional>

#include "backend/backend_test_util.hpp"
#include "vlm/backend/ops.hpp"

namespace vlm::test {
namespace {

constexpr DType kWeightDTypes[] = {DType::F32, DType::BF16, DType::F16};

std::vector<double> reference_rms_norm(const Tensor& x, const Tensor& w, double eps) {
  const int64_t d = x.dim(-1);
  std::vector<double> out(size_t(x.numel()));
  for (int64_t r = 0; r < x.numel() / d; ++r) {
    double sum_sq = 0.0;
    for (int64_t i = 0; i < d; ++i) sum_sq += x.item(r * d + i) * x.item(r * d + i);
    const double inv = 1.0 / std::sqrt(sum_sq / double(d) + eps);
    for (int64_t i = 0; i < d; ++i) out[size_t(r * d + i)] = x.item(r * d + i) * inv * w.item(i);
  }
  return out;
}

std::vector<double> reference_layer_norm(const Tensor& x, const Tensor& w, const Tensor* b, double eps) {
  const int64_t d = x.dim(-1);
  std::vector<double> out(size_t(x.numel()));
  for (int64_t r = 0; r < x.numel() / d; ++r) {
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < d; ++i) mean += x.item(r * d + i) / double(d);
    for (int64_t i = 0; i < d; ++i) var += (x.item(r * d + i) - mean) * (x.item(r * d + i) - mean) / double(d);
    for (int64_t i = 0; i < d; ++i)
      out[size_t(r * d + i)] = (x.item(r * d + i) - mean) / std::sqrt(var + eps) * w.item(i) + (b ? b->item(i) : 0.0);
  }
  return out;
}

double reference_activation(Activation kind, double x) {
  switch (kind) {
    case Activation::GeluErf: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::GeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::QuickGelu: return x / (1.0 + std::exp(-1.702 * x));
    case Activation::Silu: return x / (1.0 + std::exp(-x));
    case Activation::Relu: return x > 0 ? x : 0.0;
  }
  return 0.0;
}

constexpr Activation kActivations[] = {Activation::GeluErf, Activation::GeluTanh, Activation::QuickGelu,
                                       Activation::Silu, Activation::Relu};

}  // namespace

TEST_CASE("rms_norm matches HF (f32 normalisation, then weight) for every weight dtype", "[cpu][norm]") {
  const Tensor x = random_f32({3, 5, 67}, 1, -3.0f, 3.0f);
  // eps 0.5 is comparable to mean(x^2) = 3, so a misplaced eps shows.
  for (float eps : {1e-6f, 0.5f})
    for (DType dtype : kWeightDTypes) {
      INFO("weight " << dtype_name(dtype) << ", eps " << eps);
      const Tensor w = random_f32({67}, 2, 0.5f, 1.5f).to(dtype);
      Tensor out = cpu().empty(x.shape(), DType::F32);
      cpu().rms_norm(x, w, eps, out);
      require_close(out, reference_rms_norm(x, w, eps), 1e-5, 1e-6);
    }
  // In place.
  Tensor inplace = x.clone();
  const Tensor w = random_f32({67}, 2, 0.5f, 1.5f);
  cpu().rms_norm(inplace, w, 1e-5f, inplace);
  require_close(inplace, reference_rms_norm(x, w, 1e-5), 1e-5, 1e-6);
}

TEST_CASE("layer_norm with and without bias, every weight dtype", "[cpu][norm]") {
  const Tensor x = random_f32({4, 130}, 3, -2.0f, 4.0f);
  // eps 1.0 is comparable to var(x) = 3, so a misplaced eps shows.
  for (float eps : {1e-5f, 1.0f})
    for (DType dtype : kWeightDTypes) {
      INFO("weight " << dtype_name(dtype) << ", eps " << eps);
      const Tensor w = random_f32({130}, 4, 0.5f, 1.5f).to(dtype);
      const Tensor b = random_f32({130}, 5).to(dtype);
      Tensor out = cpu().empty(x.shape(), DType::F32);
      cpu().layer_norm(x, w, &b, eps, out);
      require_close(out, reference_layer_norm(x, w, &b, eps), 1e-5, 1e-5);
      cpu().layer_norm(x, w, nullptr, eps, out);
      require_close(out, reference_layer_norm(x, w, nullptr, eps), 1e-5, 1e-5);
    }
}

TEST_CASE("norms reject wrong weight shapes and dtypes", "[cpu][norm][errors]") {
  const Tensor x = random_f32({2, 8}, 6);
  Tensor out = cpu().empty({2, 8}, DType::F32);
  const Tensor short_w = random_f32({7}, 7);
  REQUIRE_THROWS_WITH(cpu().rms_norm(x, short_w, 1e-6f, out), Catch::Contains("rms_norm") && Catch::Contains("[7]"));
  const Tensor int_w = Tensor::zeros({8}, DType::I32);
  REQUIRE_THROWS_AS(cpu().layer_norm(x, int_w, nullptr, 1e-6f, out), Error);
  const Tensor w = random_f32({8}, 8);
  REQUIRE_THROWS_WITH(cpu().layer_norm(x, w, &short_w, 1e-6f, out), Catch::Contains("bias"));
  Tensor wrong_out = cpu().empty({2, 9}, DType::F32);
  REQUIRE_THROWS_AS(cpu().rms_norm(x, w, 1e-6f, wrong_out), Error);
}

TEST_CASE("activations match their exact formulas", "[cpu][activation]") {
  Tensor x = random_f32({5000}, 9, -8.0f, 8.0f);
  // Extremes: sigmoid saturation must not give NaN.
  x.data<float>()[0] = -100.0f;
  x.data<float>()[1] = 100.0f;
  x.data<float>()[2] = 0.0f;
  for (Activation kind : kActivations) {
    INFO("activation " << int(kind));
    Tensor out = cpu().empty(x.shape(), DType::F32);
    cpu().activation(kind, x, out);
    std::vector<double> expected;
    for (double v : values(x)) expected.push_back(reference_activation(kind, v));
    require_close(out, expected, 1e-5, 1e-6);
    Tensor inplace = x.clone();
    cpu().activation(kind, inplace, inplace);
    require_close(inplace, expected, 1e-5, 1e-6);
  }
}

TEST_CASE("gated activations: act(gate) * up, in place into gate", "[cpu][activation]") {
  const Tensor gate = random_f32({7, 33}, 10, -5.0f, 5.0f), up = random_f32({7, 33}, 11, -2.0f, 2.0f);
  for (Activation kind : kActivations) {
    std::vector<double> expected;
    for (int64_t i = 0; i < gate.numel(); ++i) expected.push_back(reference_activation(kind, gate.item(i)) * up.item(i));
    Tensor out = gate.clone();
    cpu().gated_activation(kind, out, up, out);
    require_close(out, expected, 1e-5, 1e-6);
  }
  Tensor out = cpu().empty({7, 33}, DType::F32);
  const Tensor short_up = random_f32({7, 32}, 12);
  REQUIRE_THROWS_WITH(cpu().gated_activation(Activation::Silu, gate, short_up, out),
                      Catch::Contains("gated_activation"));
}

TEST_CASE("softmax over the last dim: stable for large inputs, -inf rows give zeros", "[cpu][softmax]") {
  Tensor x = random_f32({4, 19}, 13, -5.0f, 5.0f);
  const float inf = std::numeric_limits<float>::infinity();
  x.data<float>()[0] = 1000.0f;  // would overflow exp without the max subtraction
  x.data<float>()[1] = 999.0f;
  x.data<float>()[19 + 4] = -inf;
  std::fill(x.data<float>() + 38, x.data<float>() + 57, -inf);  // row 2 fully masked
  std::vector<double> expected(size_t(x.numel()), 0.0);
  for (int64_t r : {0, 1, 3}) {
    double max = -INFINITY, sum = 0.0;
    for (int64_t i = 0; i < 19; ++i) max = std::max(max, x.item(r * 19 + i));
    for (int64_t i = 0; i < 19; ++i) sum += std::exp(x.item(r * 19 + i) - max);
    for (int64_t i = 0; i < 19; ++i) expected[size_t(r * 19 + i)] = std::exp(x.item(r * 19 + i) - max) / sum;
  }
  Tensor out = x.clone();
  cpu().softmax(out, out);
  require_close(out, expected, 1e-5, 1e-7);
}

TEST_CASE("rotary: rotate_half convention, partial rotary, per-batch tables, in place", "[cpu][rotary]") {
  const int64_t batch = 2, seq = 3, heads = 2, head_dim = 10;
  const Tensor x = random_f32({batch, seq, heads, head_dim}, 14);
  for (int64_t rotated : {10, 6}) {
    for (int64_t table_batch : {1, 2}) {
      INFO("rotated " << rotated << ", table batch " << table_batch);
      const Tensor cos = random_f32({table_batch, seq, rotated}, 15), sin = random_f32({table_batch, seq, rotated}, 16);
      std::vector<double> expected(size_t(x.numel()));
      const int64_t half = rotated / 2;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < seq; ++s)
          for (int64_t h = 0; h < heads; ++h) {
            const int64_t base = ((b * seq + s) * heads + h) * head_dim;
            const int64_t table = ((table_batch == 1 ? 0 : b) * seq + s) * rotated;
            for (int64_t i = 0; i < head_dim; ++i) {
              double value = x.item(base + i);
              if (i < rotated) {
                const double rotate_half = i < half ? -x.item(base + i + half) : x.item(base + i - half);
                value = x.item(base + i) * cos.item(table + i) + rotate_half * sin.item(table + i);
              }
              expected[size_t(base + i)] = value;
            }
          }
      Tensor out = cpu().empty(x.shape(), DType::F32);
      cpu().rotary(x, cos, sin, out);
      require_close(out, expected, 1e-6, 1e-7);
      Tensor inplace = x.clone();
      cpu().rotary(inplace, cos, sin, inplace);
      require_close(inplace, expected, 1e-6, 1e-7);
    }
  }
  Tensor out = cpu().empty(x.shape(), DType::F32);
  const Tensor odd = random_f32({1, seq, 5}, 17);
  REQUIRE_THROWS_WITH(cpu().rotary(x, odd, odd, out), Catch::Contains("rotary"));
  const Tensor long_table = random_f32({1, seq, 12}, 18);
  REQUIRE_THROWS_AS(cpu().rotary(x, long_table, long_table, out), Error);
}

TEST_CASE("embedding: i32/i64 ids, f32/bf16/f16 tables, out-of-range ids are errors", "[cpu][embedding]") {
  const Tensor table_f32 = random_f32({11, 24}, 19);
  const std::vector<int64_t> ids = {3, 0, 10, 3, 7};
  for (DType dtype : kWeightDTypes) {
    const Tensor table = table_f32.to(dtype);
    std::vector<double> expected;
    for (int64_t id : ids)
      for (int64_t d = 0; d < 24; ++d) expected.push_back(table.item(id * 24 + d));
    const Tensor ids64 = Tensor::from<int64_t>(ids, {5});
    Tensor out = cpu().empty({5, 24}, DType::F32);
    cpu().embedding(ids64, table, out);
    require_close(out, expected, 0.0);
    cpu().embedding(ids64.to(DType::I32), table, out);
    require_close(out, expected, 0.0);
  }
  Tensor out = cpu().empty({2, 24}, DType::F32);
  const std::vector<int32_t> bad = {1, 11};
  REQUIRE_THROWS_WITH(cpu().embedding(Tensor::from<int32_t>(bad, {2}), table_f32, out),
                      Catch::Contains("id 11") && Catch::Contains("11)"));
  const std::vector<int64_t> negative = {-1, 0};
  REQUIRE_THROWS_WITH(cpu().embedding(Tensor::from<int64_t>(negative, {2}), table_f32, out),
                      Catch::Contains("id -1"));
  REQUIRE_THROWS_AS(cpu().embedding(Tensor::zeros({2}, DType::F32), table_f32, out), Error);
}

TEST_CASE("add and mul broadcast b over a's leading dims, b in any float dtype", "[cpu][elementwise]") {
  const Tensor a = random_f32({2, 3, 16}, 20);
  for (const Shape& b_shape : {Shape{2, 3, 16}, Shape{3, 16}, Shape{16}, Shape{1, 16}}) {
    for (DType dtype : kWeightDTypes) {
      const Tensor b = random_f32(b_shape, 21).to(dtype);
      std::vector<double> sum, product;
      for (int64_t i = 0; i < a.numel(); ++i) {
        sum.push_back(double(float(a.item(i) + b.item(i % b.numel()))));
        product.push_back(double(float(a.item(i) * b.item(i % b.numel()))));
      }
      Tensor out = cpu().empty(a.shape(), DType::F32);
      cpu().add(a, b, out);
      require_close(out, sum, 0.0);
      cpu().mul(a, b, out);
      require_close(out, product, 0.0);
    }
  }
  Tensor inplace = a.clone();
  cpu().add(inplace, inplace.clone(), inplace);
  require_close(inplace, [&] {
    std::vector<double> twice;
    for (double v : values(a)) twice.push_back(2 * v);
    return twice;
  }(), 0.0);
  Tensor out = cpu().empty(a.shape(), DType::F32);
  REQUIRE_THROWS_WITH(cpu().add(a, random_f32({8}, 22), out), Catch::Contains("add") && Catch::Contains("[8]"));
  REQUIRE_THROWS_AS(cpu().mul(a, random_f32({2, 16}, 23), out), Error);
}

TEST_CASE("scale multiplies by a scalar, in place allowed", "[cpu][elementwise]") {
  Tensor x = random_f32({1000}, 24);
  std::vector<double> expected;
  for (double v : values(x)) expected.push_back(double(float(v) * 0.125f));
  cpu().scale(x, 0.125f, x);
  require_close(x, expected, 0.0);
}

TEST_CASE("convert: float<->float matches the scalar conversions, ints widen and narrow", "[cpu][convert]") {
  const float inf = std::numeric_limits<float>::infinity();
  // Edge values: subnormals of each format, overflow to inf, ties, NaN; then random values for the
  // vectorised body (more than one 8-wide block).
  std::vector<float> edge = {0.0f,    -0.0f,   1.0f,      -1.5f,   65504.0f, 65520.0f, 1e-7f, 6e-8f,   2.9e-8f,
                             1e-40f,  -1e-39f, 3.4e38f,   inf,     -inf,     1.00390625f, 1.01171875f, 1e5f};
  const Tensor random = random_f32({100}, 25, -100.0f, 100.0f);
  for (float v : random.span<float>()) edge.push_back(v);
  const Tensor source = Tensor::from<float>(edge, {int64_t(edge.size())});
  for (DType from : kWeightDTypes)
    for (DType to : kWeightDTypes) {
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      const Tensor x = source.to(from);
      Tensor out = cpu().empty(x.shape(), to);
      cpu().convert(x, out);
      const Tensor expected = x.to(to);  // the SDK's scalar conversions
      for (int64_t i = 0; i < x.numel(); ++i) {
        INFO("element " << i << " = " << x.item(i));
        REQUIRE(std::memcmp(static_cast<const char*>(out.raw()) + i * dtype_size(to),
                            static_cast<const char*>(expected.raw()) + i * dtype_size(to), dtype_size(to)) == 0);
      }
    }
  // NaN stays NaN in every direction.
  const std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN()};
  for (DType to : {DType::BF16, DType::F16}) {
    Tensor out = cpu().empty({1}, to);
    cpu().convert(Tensor::from<float>(nan, {1}), out);
    REQUIRE(std::isnan(out.item(0)));
  }
  // Integers.
  const std::vector<int64_t> ids = {0, 1, 255, 70000, -3};
  const Tensor i64 = Tensor::from<int64_t>(ids, {5});
  Tensor i32 = cpu().empty({5}, DType::I32);
  cpu().convert(i64, i32);
  for (int64_t i = 0; i < 5; ++i) REQUIRE(i32.item(i) == double(ids[size_t(i)]));
  Tensor f32 = cpu().empty({5}, DType::F32);
  cpu().convert(i32, f32);
  for (int64_t i = 0; i < 5; ++i) REQUIRE(f32.item(i) == double(ids[size_t(i)]));
  Tensor u8 = cpu().empty({5}, DType::U8);
  cpu().convert(i32, u8);
  REQUIRE(u8.item(2) == 255.0);
  Tensor back = cpu().empty({5}, DType::I64);
  cpu().convert(u8, back);
  REQUIRE(back.item(2) == 255.0);
  REQUIRE_THROWS_WITH(cpu().convert(f32, i32), Catch::Contains("convert"));
  Tensor wrong = cpu().empty({4}, DType::F32);
  REQUIRE_THROWS_AS(cpu().convert(i32, wrong), Error);
}

TEST_CASE("backend identity, supports(), threads and memory", "[cpu][backend]") {
  Backend& b = cpu();
  REQUIRE(b.name() == "cpu");
  REQUIRE(b.device() == Device::cpu());
  const std::string description = b.describe();
  REQUIRE_THAT(description, Catch::StartsWith("cpu: oneDNN ") && Catch::Contains("threads"));
  for (DType dtype : kWeightDTypes) REQUIRE(b.supports(Op::Matmul, dtype));
  REQUIRE(b.supports(Op::Attention, DType::F32));
  REQUIRE_FALSE(b.supports(Op::Attention, DType::BF16));
  REQUIRE(b.supports(Op::Embedding, DType::BF16));
  REQUIRE_FALSE(b.supports(Op::Matmul, DType::I32));

  b.set_threads(1);
  REQUIRE_THAT(b.describe(), Catch::Contains(", 1 threads"));
  b.set_threads(0);  // back to all cores
  REQUIRE_THAT(b.describe(), Catch::Contains(description.substr(0, description.find(" threads"))));

  Tensor z = b.zeros({3, 4}, DType::BF16);
  for (int64_t i = 0; i < z.numel(); ++i) REQUIRE(z.item(i) == 0.0);
  const Tensor src = random_f32({3, 4}, 26);
  Tensor dst = b.empty({3, 4}, DType::F32);
  b.copy(src, dst);
  require_close(dst, values(src), 0.0);
  Tensor wrong = b.empty({4, 3}, DType::F32);
  REQUIRE_THROWS_AS(b.copy(src, wrong), Error);
  REQUIRE(b.upload(src).raw() == src.raw());  // CPU weights are used in place
  REQUIRE(b.download(src).raw() == src.raw());
}

}  // namespace vlm::test
