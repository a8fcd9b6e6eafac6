// EncoderLayer (post-norm, BERT-style, optional cross-attention) against a double-precision port of
// transformers' BertLayer, on random weights saved as a checkpoint and loaded by name. Segments (two
// sequences in one call, each attending only within itself and to its own cross states) must give what
// each sequence gives alone. Tolerance: 1e-4 absolute on LayerNorm outputs of order 1 (f32 arithmetic).
#include <cmath>
#include <filesystem>
#include <fstream>

#include "backend/backend_test_util.hpp"
#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/nn/embeddings.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm::test {
namespace {

using Matrix = std::vector<double>;  // row-major

struct Weights {
  std::map<std::string, Tensor> tensors;
  std::shared_ptr<const Checkpoint> checkpoint;
  const Tensor& at(const std::string& name) const { return tensors.at(name); }
};

// Random tensors for every name the layer declares, written as model.safetensors and opened.
Weights make_weights(const std::vector<TensorSpec>& specs, uint32_t seed) {
  Weights w;
  TensorDump dump(cpu());
  for (const auto& spec : specs) {
    const bool norm_weight = spec.name.find("LayerNorm.weight") != std::string::npos;
    Tensor t = random_f32(spec.shape, seed++, norm_weight ? 0.8f : -0.3f, norm_weight ? 1.2f : 0.3f);
    dump.record(spec.name, t);
    w.tensors.emplace(spec.name, t);
  }
  const auto dir = temp_dir("encoder-layer");
  dump.write(dir);
  std::filesystem::rename(dir / "tensors.safetensors", dir / "model.safetensors");
  std::ofstream(dir / "config.json") << "{}";
  w.checkpoint = Checkpoint::open(dir);
  return w;
}

Matrix linear(const Matrix& x, int64_t rows, const Tensor& weight, const Tensor& bias) {
  const int64_t out = weight.dim(0), in = weight.dim(1);
  Matrix y(size_t(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = bias.item(o);
      for (int64_t i = 0; i < in; ++i) s += x[size_t(r * in + i)] * weight.item(o * in + i);
      y[size_t(r * out + o)] = s;
    }
  return y;
}

Matrix layer_norm(const Matrix& x, int64_t rows, const Tensor& weight, const Tensor& bias, double eps) {
  const int64_t d = weight.dim(0);
  Matrix y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mean += x[size_t(r * d + i)];
    mean /= double(d);
    for (int64_t i = 0; i < d; ++i) var += std::pow(x[size_t(r * d + i)] - mean, 2);
    var /= double(d);
    for (int64_t i = 0; i < d; ++i)
      y[size_t(r * d + i)] = (x[size_t(r * d + i)] - mean) / std::sqrt(var + eps) * weight.item(i) + bias.item(i);
  }
  return y;
}

// Multi-head attention of q rows [nq, d] over k, v rows [nk, d] (heads split along d).
Matrix attention(const Matrix& q, int64_t nq, const Matrix& k, const Matrix& v, int64_t nk, int64_t d, int64_t heads) {
  const int64_t hd = d / heads;
  Matrix out(size_t(nq * d), 0.0);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < nq; ++i) {
      std::vector<double> s(static_cast<size_t>(nk));
      double max = -1e300, sum = 0;
      for (int64_t j = 0; j < nk; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < hd; ++e) dot += q[size_t(i * d + h * hd + e)] * k[size_t(j * d + h * hd + e)];
        s[size_t(j)] = dot / std::sqrt(double(hd));
        max = std::max(max, s[size_t(j)]);
      }
      for (auto& x : s) sum += x = std::exp(x - max);
      for (int64_t j = 0; j < nk; ++j)
        for (int64_t e = 0; e < hd; ++e) out[size_t(i * d + h * hd + e)] += s[size_t(j)] / sum * v[size_t(j * d + h * hd + e)];
    }
  return out;
}

Matrix add(Matrix a, const Matrix& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// transformers' BertLayer (eval), one sequence: x [n, d], cross [m, width] or empty.
Matrix bert_layer(const Weights& w, const std::string& p, const EncoderLayerConfig& c, Matrix x, int64_t n,
                  const Matrix& cross, int64_t m) {
  auto W = [&](const std::string& name) -> const Tensor& { return w.at(p + "." + name); };
  const double eps = c.norm_eps;
  Matrix q = linear(x, n, W("attention.self.query.weight"), W("attention.self.query.bias"));
  Matrix k = linear(x, n, W("attention.self.key.weight"), W("attention.self.key.bias"));
  Matrix v = linear(x, n, W("attention.self.value.weight"), W("attention.self.value.bias"));
  Matrix a = linear(attention(q, n, k, v, n, c.hidden, c.heads), n, W("attention.output.dense.weight"),
                    W("attention.output.dense.bias"));
  x = layer_norm(add(a, x), n, W("attention.output.LayerNorm.weight"), W("attention.output.LayerNorm.bias"), eps);
  if (c.cross_width > 0) {
    q = linear(x, n, W("crossattention.self.query.weight"), W("crossattention.self.query.bias"));
    k = linear(cross, m, W("crossattention.self.key.weight"), W("crossattention.self.key.bias"));
    v = linear(cross, m, W("crossattention.self.value.weight"), W("crossattention.self.value.bias"));
    a = linear(attention(q, n, k, v, m, c.hidden, c.heads), n, W("crossattention.output.dense.weight"),
               W("crossattention.output.dense.bias"));
    x = layer_norm(add(a, x), n, W("crossattention.output.LayerNorm.weight"), W("crossattention.output.LayerNorm.bias"),
                   eps);
  }
  Matrix h = linear(x, n, W("intermediate.dense.weight"), W("intermediate.dense.bias"));
  for (auto& e : h) e = 0.5 * e * (1.0 + std::erf(e / std::sqrt(2.0)));  // GELU (erf)
  Matrix o = linear(h, n, W("output.dense.weight"), W("output.dense.bias"));
  return layer_norm(add(o, x), n, W("output.LayerNorm.weight"), W("output.LayerNorm.bias"), eps);
}

Matrix rows_of(const Tensor& t, int64_t first, int64_t count) {
  const int64_t d = t.dim(1);
  Matrix m(size_t(count * d));
  for (int64_t i = 0; i < count * d; ++i) m[size_t(i)] = t.item(first * d + i);
  return m;
}

}  // namespace

TEST_CASE("encoder layer (post-norm, BERT) matches the reference, with and without cross-attention", "[nn][encoder]") {
  for (const int64_t cross_width : {int64_t(0), int64_t(24)}) {
    INFO("cross_width " << cross_width);
    EncoderLayerConfig c;
    c.hidden = 32;
    c.heads = 4;
    c.intermediate = 48;
    c.cross_width = cross_width;
    std::vector<TensorSpec> specs;
    EncoderLayer::declare(specs, "layer.0", c);
    CHECK(specs.size() == (cross_width ? 26u : 16u));
    const Weights w = make_weights(specs, 7);
    const EncoderLayer layer = EncoderLayer::load(WeightLoader(*w.checkpoint, cpu()), "layer.0", c);

    // Two sequences of 5 and 3 tokens in one call; their cross states have 4 and 6 rows.
    const std::vector<int64_t> segments{5, 3}, cross_segments{4, 6};
    Tensor x = random_f32({8, 32}, 100);
    const Tensor cross = random_f32({10, 24}, 101);
    const Tensor x_in = x.clone();
    Workspace ws(cpu());
    layer.forward(ws, x, segments, cross_width ? &cross : nullptr, cross_width ? std::span(cross_segments) : std::span<const int64_t>());

    std::vector<double> expected;
    int64_t row = 0, cross_row = 0;
    for (size_t s = 0; s < segments.size(); ++s) {
      const Matrix out = bert_layer(w, "layer.0", c, rows_of(x_in, row, segments[s]), segments[s],
                                    rows_of(cross, cross_row, cross_segments[s]), cross_segments[s]);
      expected.insert(expected.end(), out.begin(), out.end());
      row += segments[s];
      cross_row += cross_segments[s];
    }
    require_close(x, expected, 0.0, 1e-4);
  }
}

TEST_CASE("encoder stack: layers by index, cross-attention every other layer", "[nn][encoder]") {
  EncoderStackConfig c;
  c.layers = 3;
  c.layer.hidden = 16;
  c.layer.heads = 2;
  c.layer.intermediate = 24;
  c.layer.cross_width = 8;
  c.cross_every = 2;  // layers 0 and 2 cross-attend (the Q-Former's cross_attention_frequency)
  std::vector<TensorSpec> specs;
  EncoderStack::declare(specs, "encoder.layer", c);
  CHECK(specs.size() == 26u + 16u + 26u);
  const Weights w = make_weights(specs, 50);
  const EncoderStack stack = EncoderStack::load(WeightLoader(*w.checkpoint, cpu()), "encoder.layer", c);
  Tensor x = random_f32({4, 16}, 60);
  const Tensor cross = random_f32({3, 8}, 61), x_in = x.clone();
  Workspace ws(cpu());
  stack.forward(ws, x, {}, &cross);

  Matrix expected = rows_of(x_in, 0, 4);
  const Matrix states = rows_of(cross, 0, 3);
  for (int64_t i = 0; i < 3; ++i) {
    EncoderLayerConfig layer = c.layer;
    if (!c.has_cross(i)) layer.cross_width = 0;
    expected = bert_layer(w, "encoder.layer." + std::to_string(i), layer, expected, 4, states, 3);
  }
  require_close(x, expected, 0.0, 1e-4);
}

TEST_CASE("encoder layer refuses missing or unexpected cross states", "[nn][encoder][errors]") {
  EncoderLayerConfig c;
  c.hidden = 8;
  c.heads = 2;
  c.intermediate = 8;
  c.cross_width = 4;
  std::vector<TensorSpec> specs;
  EncoderLayer::declare(specs, "l", c);
  const Weights w = make_weights(specs, 1);
  const EncoderLayer layer = EncoderLayer::load(WeightLoader(*w.checkpoint, cpu()), "l", c);
  Workspace ws(cpu());
  Tensor x = random_f32({3, 8}, 2);
  CHECK_THROWS_WITH(layer.forward(ws, x, {}), Catch::Contains("cross-attention needs states [M, 4]"));
  const Tensor wrong = random_f32({2, 5}, 3);
  CHECK_THROWS_WITH(layer.forward(ws, x, {}, &wrong), Catch::Contains("got [2, 5]"));
  const Tensor cross = random_f32({2, 4}, 4);
  const std::vector<int64_t> two{1, 2}, one{2};
  CHECK_THROWS_WITH(layer.forward(ws, x, two, &cross, one), Catch::Contains("2 query segments but 1"));
}

}  // namespace vlm::test

namespace vlm::test {

TEST_CASE("RoBERTa positions count non-padding ids after padding_idx", "[nn][embeddings]") {
  const std::vector<int64_t> ids{0, 5, 6, 1, 1, 7};  // padding_idx 1 (RoBERTa)
  CHECK(positions_from_ids(ids, 1) == std::vector<int64_t>{2, 3, 4, 1, 1, 5});
}

TEST_CASE("text embeddings sum token, position and token-type rows, then LayerNorm", "[nn][embeddings]") {
  TextEmbeddingsConfig c;
  c.vocab_size = 10;
  c.hidden = 8;
  c.max_positions = 12;
  c.type_vocab_size = 2;
  c.padding_idx = 1;
  std::vector<TensorSpec> specs;
  TextEmbeddings::declare(specs, "embeddings", c);
  REQUIRE(specs.size() == 5u);
  const Weights w = make_weights(specs, 90);
  const TextEmbeddings emb = TextEmbeddings::load(WeightLoader(*w.checkpoint, cpu()), "embeddings", c);
  const std::vector<int64_t> ids{0, 4, 1, 9}, types{0, 1, 1, 0};
  Tensor out = Tensor::zeros({4, 8}, DType::F32);
  Workspace ws(cpu());
  emb.forward(ws, ids, types, {}, out);

  const std::vector<int64_t> positions = positions_from_ids(ids, 1);  // 2, 3, 1, 4
  Matrix sum(4 * 8);
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t i = 0; i < 8; ++i)
      sum[size_t(r * 8 + i)] = w.at("embeddings.word_embeddings.weight").item(ids[size_t(r)] * 8 + i) +
                               w.at("embeddings.position_embeddings.weight").item(positions[size_t(r)] * 8 + i) +
                               w.at("embeddings.token_type_embeddings.weight").item(types[size_t(r)] * 8 + i);
  require_close(out, layer_norm(sum, 4, w.at("embeddings.LayerNorm.weight"), w.at("embeddings.LayerNorm.bias"), 1e-12),
                0.0, 1e-4);
  CHECK_THROWS_WITH(emb.forward(ws, std::vector<int64_t>{10}, {}, {}, out),
                    Catch::Contains("token id 10 is outside the table of 10"));
}

}  // namespace vlm::test
