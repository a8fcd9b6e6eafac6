#include "vlm/nn/embeddings.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

std::vector<int64_t> positions_from_ids(std::span<const int64_t> ids, int64_t padding_idx) {
  std::vector<int64_t> positions(ids.size());
  int64_t count = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool real = ids[i] != padding_idx;
    count += real;
    positions[i] = real ? padding_idx + count : padding_idx;
  }
  return positions;
}

TextEmbeddings TextEmbeddings::load(const WeightLoader& w, const std::string& prefix, const TextEmbeddingsConfig& c,
                                    const TextEmbeddingsNames& n) {
  TextEmbeddings e;
  e.config_ = c;
  const std::string p = prefix + ".";
  e.word_ = w.load(p + n.word + ".weight", Shape{c.vocab_size, c.hidden});
  e.position_ = w.load(p + n.position + ".weight", Shape{c.max_positions, c.hidden});
  if (c.type_vocab_size > 0) e.token_type_ = w.load(p + n.token_type + ".weight", Shape{c.type_vocab_size, c.hidden});
  e.norm_ = Norm::layer(w, p + n.norm, c.hidden, c.norm_eps);
  return e;
}

void TextEmbeddings::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const TextEmbeddingsConfig& c,
                             const TextEmbeddingsNames& n) {
  const std::string p = prefix + ".";
  specs.push_back({p + n.word + ".weight", Shape{c.vocab_size, c.hidden}});
  specs.push_back({p + n.position + ".weight", Shape{c.max_positions, c.hidden}});
  if (c.type_vocab_size > 0) specs.push_back({p + n.token_type + ".weight", Shape{c.type_vocab_size, c.hidden}});
  add_norm(specs, p + n.norm, c.hidden, true);
}

void TextEmbeddings::add_ops(std::vector<Op>& ops) { vlm::add_ops(ops, {Op::Embedding, Op::Add, Op::LayerNorm}); }

void TextEmbeddings::forward(Workspace& ws, std::span<const int64_t> ids, std::span<const int64_t> token_types,
                             std::span<const int64_t> positions, Tensor& out) const {
  const auto& c = config_;
  const int64_t n = int64_t(ids.size());
  if (!token_types.empty() && int64_t(token_types.size()) != n) fail("embeddings: {} token types for {} ids", token_types.size(), n);
  if (!positions.empty() && int64_t(positions.size()) != n) fail("embeddings: {} positions for {} ids", positions.size(), n);
  std::vector<int64_t> own;
  if (positions.empty()) {
    if (c.padding_idx >= 0) {
      own = positions_from_ids(ids, c.padding_idx);
    } else {
      own.resize(size_t(n));
      for (int64_t i = 0; i < n; ++i) own[size_t(i)] = i;
    }
    positions = own;
  }
  auto check = [](std::span<const int64_t> values, int64_t size, const char* what) {
    for (const int64_t v : values)
      if (v < 0 || v >= size) fail("embeddings: {} {} is outside the table of {}", what, v, size);
  };
  check(ids, c.vocab_size, "token id");
  check(positions, c.max_positions, "position");
  if (c.type_vocab_size > 0) check(token_types, c.type_vocab_size, "token type");
  else if (!token_types.empty()) fail("embeddings: token types given to a model without a token-type table");

  Backend& be = ws.backend();
  auto lookup = [&](const char* slot, std::span<const int64_t> rows, const Tensor& table, Tensor& dst) {
    const Tensor host = Tensor::borrow(const_cast<int64_t*>(rows.data()), Shape{n}, DType::I64, Device::cpu(), nullptr);
    be.embedding(ws.to_device(slot, host), table, dst);
  };
  Tensor sum = ws.get("emb.sum", Shape{n, c.hidden}), part = ws.get("emb.part", Shape{n, c.hidden});
  lookup("emb.ids", ids, word_, sum);
  lookup("emb.positions", positions, position_, part);
  be.add(sum, part, sum);
  if (c.type_vocab_size > 0) {
    std::vector<int64_t> zeros;
    if (token_types.empty()) {
      zeros.assign(size_t(n), 0);
      token_types = zeros;
    }
    lookup("emb.types", token_types, token_type_, part);
    be.add(sum, part, sum);
  }
  norm_.forward(be, sum, out);
}

}  // namespace vlm
