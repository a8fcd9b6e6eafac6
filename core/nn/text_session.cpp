#include "vlm/nn/text_session.hpp"

#include <algorithm>
#include <cstring>

#include "vlm/nn/rotary.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

int64_t session_length(const SessionOptions& options, int64_t max_context) {
  if (options.max_sequences < 1) fail("a decoder session needs room for at least one sequence");
  if (options.max_length < 0) fail("a session's max_length must be positive (0 = the model's context)");
  return options.max_length ? std::min(options.max_length, max_context) : max_context;
}

// A host f32 tensor of at least `rows` x `width`, reused when big enough.
Tensor& staging(Tensor& t, int64_t rows, int64_t width) {
  if (!t.defined() || t.dim(0) < rows) t = Tensor::zeros(Shape{std::max<int64_t>(rows, 16), width}, DType::F32);
  return t;
}

}  // namespace

MaskPositions positions_from_mask(std::span<const int64_t> mask, int64_t batch, int64_t padding) {
  const int64_t S = int64_t(mask.size()) / batch;
  MaskPositions p{std::vector<int64_t>(mask.size(), padding), std::vector<int64_t>(static_cast<size_t>(batch), 0)};
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < S; ++s)
      if (mask[size_t(b * S + s)]) p.positions[size_t(b * S + s)] = p.next[size_t(b)]++;
  return p;
}

std::vector<PromptRows> split_padded_batch(Backend& backend, const Tensor& embeds, const Tensor& cos, const Tensor& sin,
                                           std::span<const int64_t> mask, int64_t batch,
                                           std::span<const int64_t> next_positions) {
  const int64_t S = int64_t(mask.size()) / batch, H = embeds.dim(-1), D = cos.dim(-1);
  const Tensor flat = embeds.reshape(Shape{batch * S, H});
  std::vector<PromptRows> rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t n = 0;
    for (int64_t s = 0; s < S; ++s) n += mask[size_t(b * S + s)] != 0;
    PromptRows& p = rows[size_t(b)];
    p.embeds = backend.empty(Shape{n, H}, DType::F32);
    p.cos = Tensor::zeros(Shape{n, D}, DType::F32);
    p.sin = Tensor::zeros(Shape{n, D}, DType::F32);
    p.next_position = next_positions[size_t(b)];
    // Copy runs of real positions at once (left padding makes it a single run).
    int64_t out = 0;
    for (int64_t s = 0; s < S;) {
      if (!mask[size_t(b * S + s)]) {
        ++s;
        continue;
      }
      int64_t end = s;
      while (end < S && mask[size_t(b * S + end)]) ++end;
      const int64_t run = end - s, from = b * S + s;
      Tensor dst = p.embeds.rows(out, run);
      backend.copy(flat.rows(from, run), dst);
      if (D > 0) {  // learned positions (OPT) have empty rotary tables, whose data pointers are null
        std::memcpy(p.cos.data<float>() + out * D, cos.data<float>() + from * D, size_t(run * D) * sizeof(float));
        std::memcpy(p.sin.data<float>() + out * D, sin.data<float>() + from * D, size_t(run * D) * sizeof(float));
      }
      out += run;
      s = end;
    }
  }
  return rows;
}

TextModelSession::TextModelSession(const TextModel& model, Backend& backend, const SessionOptions& options,
                                   int64_t max_context, std::span<const float> inv_freq, PromptBuilder build_prompts)
    : model_(&model),
      backend_(&backend),
      inv_freq_(inv_freq),
      build_prompts_(std::move(build_prompts)),
      ws_(backend),
      cache_(backend, model.self_attention_layers(), options.max_sequences, session_length(options, max_context),
             model.config().layer.kv_heads, model.config().layer.head_dim, options.kv_dtype) {}

TextModelSession::Sequence& TextModelSession::find(SequenceId sequence) {
  auto it = sequences_.find(sequence);
  if (it == sequences_.end()) fail("decoder session: sequence {} is not active", sequence);
  return it->second;
}

const TextModelSession::Sequence& TextModelSession::find(SequenceId sequence) const {
  return const_cast<TextModelSession*>(this)->find(sequence);
}

std::vector<SequenceId> TextModelSession::admit(const ModelInputs& inputs, const Tensor* vision, Trace* trace) {
  std::vector<PromptRows> prompts = build_prompts_(inputs, vision, ws_, trace);
  if (int64_t(prompts.size()) + active() > cache_.slots())
    fail("decoder session: {} more sequence(s) do not fit beside the {} active (room for {})", prompts.size(), active(),
         cache_.slots());
  const bool rotary = model_->config().layer.rotary;
  for (const auto& p : prompts) {
    if (!p.embeds.defined() || p.embeds.rank() != 2 || p.embeds.dim(1) != model_->hidden_size())
      fail("decoder session: a prompt row's embeddings must be [n, {}]", model_->hidden_size());
    const int64_t n = p.embeds.dim(0);
    if (rotary && !(p.cos.defined() && p.sin.defined() && p.cos.numel() == n * model_->head_dim() &&
                    p.sin.numel() == n * model_->head_dim() && p.cos.is_host() && p.sin.is_host()))
      fail("decoder session: a prompt row of {} positions needs host rotary tables of [{}, {}]", n, n,
           model_->head_dim());
    if (n > cache_.capacity())
      fail("a prompt of {} tokens does not fit the {} positions reserved per sequence", n, cache_.capacity());
  }
  std::vector<SequenceId> ids;
  for (auto& p : prompts) {
    Sequence seq;
    seq.slot = cache_.acquire();
    seq.next_position = p.next_position;
    seq.prompt = std::move(p);
    ids.push_back(next_id_);
    sequences_.emplace(next_id_++, std::move(seq));
  }
  return ids;
}

int64_t TextModelSession::prompt_remaining(SequenceId sequence) const {
  const Sequence& s = find(sequence);
  return s.prompt.embeds.dim(0) - s.prompt_done;
}

int64_t TextModelSession::length(SequenceId sequence) const { return cache_.length(find(sequence).slot); }

void TextModelSession::release(SequenceId sequence) {
  cache_.release(find(sequence).slot);
  sequences_.erase(sequence);
}

StepOutput& TextModelSession::forward(std::span<const StepInput> inputs) {
  if (inputs.empty()) fail("decoder session: a forward needs at least one input");
  const int64_t H = model_->hidden_size(), D = model_->head_dim();
  // Lay the batch out: each input's rows, in input order.
  rows_.clear();
  int64_t N = 0;
  for (const auto& in : inputs) {
    Sequence& s = find(in.sequence);
    const int64_t remaining = s.prompt.embeds.dim(0) - s.prompt_done;
    int64_t count = 1;
    if (in.token >= 0) {
      if (remaining > 0) fail("sequence {}: a token was fed while {} prompt tokens are still to run", in.sequence, remaining);
    } else {
      if (remaining == 0) fail("sequence {}: its prompt has already run", in.sequence);
      count = in.prompt_tokens > 0 ? std::min(in.prompt_tokens, remaining) : remaining;
    }
    for (const auto& r : rows_)
      if (r.slot == s.slot) fail("sequence {} appears twice in one forward", in.sequence);
    cache_.check_room(s.slot, count);
    // Cross-attention mask rows: the prompt's own, then its last row for every generated position.
    const int64_t prompt_rows = s.prompt.embeds.dim(0);
    rows_.push_back({s.slot, N, count, s.prompt.cross.get(), in.token >= 0 ? prompt_rows - 1 : s.prompt_done});
    N += count;
  }

  const bool rotary = model_->config().layer.rotary;
  Tensor hidden = ws_.get("session.hidden", Shape{N, H});
  Tensor& cos = staging(host_cos_, N, D);
  Tensor& sin = staging(host_sin_, N, D);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    Sequence& s = find(in.sequence);
    const auto& r = rows_[i];
    Tensor dst = hidden.rows(r.first, r.count);
    if (in.token >= 0) {
      model_->embed(ws_, std::span<const int64_t>(&in.token, 1), dst);
      const int64_t position = s.next_position;
      if (rotary) {
        Tensor c = cos.rows(r.first, 1), sn = sin.rows(r.first, 1);
        rope_tables_1d(std::span<const int64_t>(&position, 1), inv_freq_, c, sn);
      } else if (model_->learned_positions()) {
        model_->add_positions(ws_, std::span<const int64_t>(&position, 1), dst);
      }
    } else {
      // The family's prompt rows carry their positions: rotary tables, or learned embeddings already added.
      backend_->copy(s.prompt.embeds.rows(s.prompt_done, r.count), dst);
      if (rotary) {
        std::memcpy(cos.data<float>() + r.first * D, s.prompt.cos.data<float>() + s.prompt_done * D,
                    size_t(r.count * D) * sizeof(float));
        std::memcpy(sin.data<float>() + r.first * D, s.prompt.sin.data<float>() + s.prompt_done * D,
                    size_t(r.count * D) * sizeof(float));
      }
    }
  }
  const Tensor dcos = ws_.to_device("session.cos", cos.rows(0, N));
  const Tensor dsin = ws_.to_device("session.sin", sin.rows(0, N));
  model_->forward(ws_, hidden, dcos, dsin, rows_, cache_);

  // Which rows come back: every row of all_logits inputs, else the last row when it predicts a token.
  StepOutput& out = out_;
  out.logits = out.hidden = Tensor();
  out.rows.resize(inputs.size());
  picked_.clear();
  bool any_all = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    Sequence& s = find(in.sequence);
    const auto& r = rows_[i];
    const bool completes = in.token >= 0 || s.prompt_done + r.count == s.prompt.embeds.dim(0);
    out.rows[i].first = int64_t(picked_.size());
    if (in.all_logits) {
      any_all = true;
      for (int64_t k = 0; k < r.count; ++k) picked_.push_back(r.first + k);
    } else if (completes) {
      picked_.push_back(r.first + r.count - 1);
    }
    out.rows[i].count = int64_t(picked_.size()) - out.rows[i].first;
    if (in.token >= 0)
      ++s.next_position;
    else
      s.prompt_done += r.count;
  }
  const int64_t M = int64_t(picked_.size());
  if (M == 0) return out;
  Tensor selected = ws_.get("session.selected", Shape{M, H});
  for (int64_t m = 0; m < M; ++m) {
    Tensor dst = selected.rows(m, 1);
    backend_->copy(hidden.rows(picked_[size_t(m)], 1), dst);
  }
  Tensor logits = ws_.get("session.logits", Shape{M, model_->config().output_vocab()});
  model_->logits(ws_, selected, logits);
  out.logits = backend_->download(logits);
  if (any_all) {
    Tensor normed = ws_.get("session.normed", Shape{M, H});
    model_->final_norm(*backend_, selected, normed);
    out.hidden = backend_->download(normed);
  }
  return out;
}

std::unique_ptr<DecoderSession> TextModelDecoder::open_session(const SessionOptions& options) const {
  return std::make_unique<TextModelSession>(
      model_, *backend_, options, max_context(), inv_freq_,
      [this](const ModelInputs& inputs, const Tensor* vision, Workspace& ws, Trace* trace) {
        return prompt_rows(inputs, vision, ws, trace);
      });
}

}  // namespace vlm
