#include "vlm/nn/text_model.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm {

bool TextModelConfig::is_cross_layer(int64_t index) const {
  return std::find(cross_layers.begin(), cross_layers.end(), index) != cross_layers.end();
}

TextModel TextModel::load(const WeightLoader& loader, const TextModelConfig& c) {
  const WeightLoader weights = loader.language_model();  // --quantize applies here
  TextModel m;
  m.config_ = c;
  const int64_t hidden = c.layer.hidden;
  m.embed_tokens_ = weights.load(c.embed_name() + ".weight", Shape{c.vocab_size, hidden});
  if (!c.positions.empty())
    m.positions_ = weights.load(c.prefix + "." + c.positions + ".weight", Shape{c.max_positions + c.position_offset, hidden});
  for (const int64_t index : c.cross_layers)
    if (index < 0 || index >= c.layers) fail("cross-attention layer {} is outside the {} layers", index, c.layers);
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = c.layer_name(i);
    const bool cross = c.is_cross_layer(i) || c.layer.cross_attention;
    m.cross_index_.push_back(cross ? int(m.cross_count_++) : -1);
    if (c.is_cross_layer(i)) {
      m.order_.push_back(-int64_t(m.cross_.size()) - 1);
      m.cross_.push_back(CrossAttentionLayer::load(weights, p, c.layer, c.cross_names));
    } else {
      m.order_.push_back(int64_t(m.layers_.size()));
      m.layers_.push_back(DecoderLayer::load(weights, p, c.layer, c.names));
    }
  }
  if (!c.relative_bias.empty())
    m.relative_ = RelativePositionBias::load(weights, c.prefix + "." + c.relative_bias, c.layer.heads, c.relative);
  const std::string norm = c.prefix + "." + c.final_norm;
  m.norm_ = c.layer.layer_norm ? Norm::layer(weights, norm, hidden, c.layer.norm_eps, true)
                               : Norm::rms(weights, norm, hidden, c.layer.norm_eps);
  // Hugging Face ties (and ignores a saved lm_head) when tie_word_embeddings is true.
  if (c.output_vocab() > c.vocab_size)
    fail("{}: an LM head of {} rows is wider than the {} embeddings", c.lm_head, c.output_vocab(), c.vocab_size);
  m.lm_head_ = c.tie_word_embeddings ? weights.matrix_from(c.lm_head + ".weight", m.embed_tokens_.rows(0, c.output_vocab()))
                                     : weights.load_matrix(c.lm_head + ".weight", Shape{c.output_vocab(), hidden});
  return m;
}

void TextModel::declare(std::vector<TensorSpec>& specs, const TextModelConfig& c) {
  const int64_t hidden = c.layer.hidden;
  specs.push_back({c.embed_name() + ".weight", Shape{c.vocab_size, hidden}});
  if (!c.positions.empty())
    specs.push_back({c.prefix + "." + c.positions + ".weight", Shape{c.max_positions + c.position_offset, hidden}});
  if (!c.relative_bias.empty())
    RelativePositionBias::declare(specs, c.prefix + "." + c.relative_bias, c.layer.heads, c.relative);
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string p = c.layer_name(i);
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
  if (c.lm_head_input_scale != 1.0f) vlm::add_ops(ops, {Op::Scale});
}

std::vector<CrossKV> TextModel::project_cross(Workspace& ws, const Tensor& states) const {
  std::vector<CrossKV> out;
  for (const int64_t index : order_) {
    if (index < 0)
      out.push_back(cross_[size_t(-index - 1)].project(ws, states));
    else if (config_.layer.cross_attention)
      out.push_back(layers_[size_t(index)].project_cross(ws, states));
  }
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
  if (relative_.defined()) sequences = with_position_bias(ws, sequences, cache);
  for (size_t i = 0; i < order_.size(); ++i) {
    const int64_t index = order_[i];
    if (index >= 0)
      layers_[size_t(index)].forward(ws, hidden, cos, sin, sequences, cache, int(index), cross_index_[i]);
    else
      cross_[size_t(-index - 1)].forward(ws, hidden, sequences, cross_index_[i]);
  }
  for (const auto& seq : sequences) cache.advance(seq.slot, seq.count);
}

std::span<const SequenceRows> TextModel::with_position_bias(Workspace& ws, std::span<const SequenceRows> sequences,
                                                            const KVCache& cache) const {
  // One host buffer holds every sequence's [heads, count, kv_len] block, uploaded at once; reused across
  // forwards (grown, never shrunk).
  thread_local std::vector<float> bias;
  thread_local std::vector<SequenceRows> rows;
  thread_local std::vector<Tensor> views;
  const int64_t heads = relative_.heads();
  size_t total = 0;
  for (const auto& seq : sequences) total += size_t(heads * seq.count * (cache.length(seq.slot) + seq.count));
  bias.resize(total);
  size_t offset = 0;
  for (const auto& seq : sequences) {
    const int64_t past = cache.length(seq.slot), keys = past + seq.count;
    relative_.fill(past, seq.count, keys, bias.data() + offset);
    offset += size_t(heads * seq.count * keys);
  }
  const Tensor device = ws.to_device(
      "text.position_bias", Tensor::borrow(bias.data(), Shape{int64_t(total)}, DType::F32, Device::cpu(), nullptr));
  rows.assign(sequences.begin(), sequences.end());
  views.resize(rows.size());
  offset = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t keys = cache.length(rows[i].slot) + rows[i].count, size = heads * rows[i].count * keys;
    views[i] = device.rows(int64_t(offset), size).reshape(Shape{1, heads, rows[i].count, keys});
    rows[i].position_bias = &views[i];
    offset += size_t(size);
  }
  return rows;
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
  if (config_.lm_head_input_scale != 1.0f) ws.backend().scale(normed, config_.lm_head_input_scale, normed);
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
