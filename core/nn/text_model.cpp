#include "vlm/nn/text_model.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm {

bool TextModelConfig::is_cross_layer(int64_t index) const {
  return std::find(cross_layers.begin(), cross_layers.end(), index) != cross_layers.end();
}

TextModel TextModel::load(const WeightLoader& weights, const TextModelConfig& c) {
  TextModel m;
  m.config_ = c;
  const int64_t hidden = c.layer.hidden;
  m.embed_tokens_ = weights.load(c.prefix + "." + c.embed + ".weight", Shape{c.vocab_size, hidden});
  if (!c.positions.empty())
    m.positions_ = weights.load(c.prefix + "." + c.positions + ".weight", Shape{c.max_positions + c.position_offset, hidden});
  for (const int64_t index : c.cross_layers)
    if (index < 0 || index >= c.layers) fail("cross-attention layer {} is outside the {} layers", index, c.layers);
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = c.prefix + ".layers." + std::to_string(i);
    if (c.is_cross_layer(i)) {
      m.order_.push_back(-int64_t(m.cross_.size()) - 1);
      m.cross_.push_back(CrossAttentionLayer::load(weights, p, c.layer, c.cross_names));
    } else {
      m.order_.push_back(int64_t(m.layers_.size()));
      m.layers_.push_back(DecoderLayer::load(weights, p, c.layer, c.names));
    }
  }
  const std::string norm = c.prefix + "." + c.final_norm;
  m.norm_ = c.layer.layer_norm ? Norm::layer(weights, norm, hidden, c.layer.norm_eps, true)
                               : Norm::rms(weights, norm, hidden, c.layer.norm_eps);
  // Hugging Face ties (and ignores a saved lm_head) when tie_word_embeddings is true.
  if (c.output_vocab() > c.vocab_size)
    fail("{}: an LM head of {} rows is wider than the {} embeddings", c.lm_head, c.output_vocab(), c.vocab_size);
  m.lm_head_ = c.tie_word_embeddings ? m.embed_tokens_.rows(0, c.output_vocab())
                                     : weights.load(c.lm_head + ".weight", Shape{c.output_vocab(), hidden});
  return m;
}

void TextModel::declare(std::vector<TensorSpec>& specs, const TextModelConfig& c) {
  const int64_t hidden = c.layer.hidden;
  specs.push_back({c.prefix + "." + c.embed + ".weight", Shape{c.vocab_size, hidden}});
  if (!c.positions.empty())
    specs.push_back({c.prefix + "." + c.positions + ".weight", Shape{c.max_positions + c.position_offset, hidden}});
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = c.prefix + ".layers." + std::to_string(i);
    if (c.is_cross_layer(i))
      CrossAttentionLayer::declare(specs, p, c.layer, c.cross_names);
    else
      DecoderLayer::declare(specs, p, c.layer, c.names);
  }
  add_norm(specs, c.prefix + "." + c.final_norm, hidden, c.layer.layer_norm);
  specs.push_back({c.lm_head + ".weight", Shape{c.output_vocab(), hidden}, c.tie_word_embeddings});
}

void TextModel::add_ops(std::vector<Op>& ops, const TextModelConfig& c) {
  vlm::add_ops(ops, {Op::Embedding, Op::Convert});
  DecoderLayer::add_ops(ops, c.layer);
  if (!c.cross_layers.empty()) CrossAttentionLayer::add_ops(ops);
}

std::vector<CrossKV> TextModel::project_cross(Workspace& ws, const Tensor& states) const {
  std::vector<CrossKV> out;
  for (const auto& layer : cross_) out.push_back(layer.project(ws, states));
  return out;
}

void TextModel::embed(Workspace& ws, std::span<const int64_t> ids, Tensor& out) const {
  for (const int64_t id : ids)
    if (id < 0 || id >= config_.vocab_size)
      fail("token id {} is outside the model's vocabulary of {} (wrong tokenizer for this checkpoint?)", id,
           config_.vocab_size);
  const Tensor host_ids = Tensor::borrow(const_cast<int64_t*>(ids.data()), Shape{int64_t(ids.size())}, DType::I64,
                                         Device::cpu(), nullptr);
  ws.backend().embedding(ws.to_device("text.ids", host_ids), embed_tokens_, out);
}

void TextModel::forward(Workspace& ws, Tensor& hidden, const Tensor& cos, const Tensor& sin,
                        std::span<const SequenceRows> sequences, KVCache& cache) const {
  for (const auto& seq : sequences) cache.check_room(seq.slot, seq.count);  // before anything is written
  for (const int64_t index : order_) {
    if (index >= 0)
      layers_[size_t(index)].forward(ws, hidden, cos, sin, sequences, cache, int(index));
    else
      cross_[size_t(-index - 1)].forward(ws, hidden, sequences, int(-index - 1));
  }
  for (const auto& seq : sequences) cache.advance(seq.slot, seq.count);
}

void TextModel::add_positions(Workspace& ws, std::span<const int64_t> positions, Tensor& rows) const {
  if (!positions_.defined()) fail("this text model has no learned position embeddings");
  const int64_t table = positions_.dim(0);
  thread_local std::vector<int64_t> rows_of;  // reused: a decode step allocates nothing here
  rows_of.clear();
  for (const int64_t p : positions) {
    // Padding sits at position -1 (OPT: cumsum(mask) * mask - 1), i.e. row offset - 1, as Hugging Face has it.
    const int64_t row = p + config_.position_offset;
    if (row < 0 || row >= table)
      fail("position {} is beyond the model's {} learned positions", p, table - config_.position_offset);
    rows_of.push_back(row);
  }
  const int64_t n = int64_t(rows_of.size());
  const Tensor host_ids = Tensor::borrow(rows_of.data(), Shape{n}, DType::I64, Device::cpu(), nullptr);
  Tensor embedded = ws.get("text.positions", Shape{n, config_.layer.hidden});
  ws.backend().embedding(ws.to_device("text.position_ids", host_ids), positions_, embedded);
  ws.backend().add(rows, embedded, rows);
}

void TextModel::final_norm(Backend& backend, const Tensor& hidden_rows, Tensor& out) const {
  norm_.forward(backend, hidden_rows, out);
}

void TextModel::logits(Workspace& ws, const Tensor& hidden_rows, Tensor& out) const {
  Tensor normed = ws.get("text.final_norm", hidden_rows.shape());
  norm_.forward(ws.backend(), hidden_rows, normed);
  ws.backend().matmul(normed, lm_head_, nullptr, out, true);
}

void merge_features(Backend& backend, std::span<const int64_t> ids, int64_t token_id, const Tensor& features,
                    Tensor& embeds, const std::string& what) {
  int64_t placeholders = 0;
  for (const int64_t id : ids) placeholders += id == token_id;
  const int64_t available = features.defined() ? features.dim(0) : 0;
  if (placeholders != available)
    fail("the prompt has {} {} placeholder token(s) (id {}) but the {}s produced {} feature row(s); the number of "
         "{} markers in the prompt must match the {}s given",
         placeholders, what, token_id, what, available, what, what);
  if (!placeholders) return;
  const int64_t hidden = embeds.dim(-1);
  const Tensor rows = embeds.reshape(Shape{embeds.numel() / hidden, hidden});
  // Copy contiguous runs of placeholders at once: images occupy long consecutive spans.
  int64_t next = 0;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != token_id) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < ids.size() && ids[end] == token_id) ++end;
    const int64_t run = int64_t(end - i);
    Tensor dst = rows.rows(int64_t(i), run);
    backend.copy(features.rows(next, run), dst);
    next += run;
    i = end;
  }
}

}  // namespace vlm
