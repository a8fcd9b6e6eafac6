#pragma once
// The DecoderSession of every causal text model built on TextModel: a slot KV cache, scratch buffers and
// per-sequence state, with one batched forward over prompt chunks and decode tokens of many sequences.
// A family supplies only what differs: how a prepared batch becomes each row's prompt embeddings (vision
// features merged) and rotary positions.
#include <functional>
#include <map>
#include <memory>

#include "vlm/model/components.hpp"
#include "vlm/nn/text_model.hpp"

namespace vlm {

// One admitted prompt row, as its family prepared it.
struct PromptRows {
  Tensor embeds;              // [n, hidden] f32 on the backend: token embeddings with features merged (and
                              // learned position embeddings added, for models without rotary)
  Tensor cos, sin;            // [n, head_dim] f32 host: the rotary table of each position (rotary models)
  int64_t next_position = 0;  // position of the first generated token (1-D from then on)
  // Cross-attention models: this row's image keys/values and masks (null = no images, layers skipped).
  std::shared_ptr<const CrossContext> cross;
};

// Turns a prepared, left-padded batch into one PromptRows per row (using the session's workspace for
// scratch). Records "inputs_embeds" and family tensors when traced.
using PromptBuilder = std::function<std::vector<PromptRows>(const ModelInputs& inputs, const Tensor* vision,
                                                            Workspace& ws, Trace* trace)>;

// Positions that count the real tokens of each row of a left-padded batch (HF: cumsum(mask) - 1):
// positions [B * S] with `padding` where mask is 0, and next[b], the row's first generated position.
struct MaskPositions {
  std::vector<int64_t> positions, next;
};
MaskPositions positions_from_mask(std::span<const int64_t> mask, int64_t batch, int64_t padding);

// The usual PromptBuilder ending: a left-padded batch's embeddings [B * S, hidden] (backend) and host
// rotary tables [B * S, head_dim] become one PromptRows per row, keeping the positions `mask` [B * S]
// marks real. next_positions[b] is row b's first generated position.
std::vector<PromptRows> split_padded_batch(Backend& backend, const Tensor& embeds, const Tensor& cos, const Tensor& sin,
                                           std::span<const int64_t> mask, int64_t batch,
                                           std::span<const int64_t> next_positions);

class TextModelSession final : public DecoderSession {
 public:
  // `model` and `inv_freq` (1-D rotary frequencies of generated positions) must outlive the session.
  TextModelSession(const TextModel& model, Backend& backend, const SessionOptions& options, int64_t max_context,
                   std::span<const float> inv_freq, PromptBuilder build_prompts);

  std::vector<SequenceId> admit(const ModelInputs& inputs, const Tensor* vision, Trace* trace) override;
  int64_t prompt_remaining(SequenceId sequence) const override;
  int64_t length(SequenceId sequence) const override;
  StepOutput& forward(std::span<const StepInput> inputs) override;
  void release(SequenceId sequence) override;
  int64_t active() const override { return int64_t(sequences_.size()); }

 private:
  struct Sequence {
    int slot = 0;
    PromptRows prompt;
    int64_t prompt_done = 0;    // prompt rows already run
    int64_t next_position = 0;  // rotary position of the next fed token
  };
  Sequence& find(SequenceId sequence);
  const Sequence& find(SequenceId sequence) const;

  const TextModel* model_;
  Backend* backend_;
  std::span<const float> inv_freq_;
  PromptBuilder build_prompts_;
  Workspace ws_;
  KVCache cache_;
  std::map<SequenceId, Sequence> sequences_;
  SequenceId next_id_ = 0;
  // Host staging reused across forwards (grown, never shrunk), so steady decoding allocates nothing here.
  Tensor host_cos_, host_sin_;
  std::vector<SequenceRows> rows_;
  std::vector<int64_t> picked_;  // batch rows whose logits are returned
  StepOutput out_;
};

// A Decoder over one TextModel, whose sessions are TextModelSessions: a family derives from it and
// implements prompt_rows (its PromptBuilder) and the Decoder facts it knows (vocabulary, context).
class TextModelDecoder : public Decoder {
 public:
  Conditioning conditioning() const override { return Conditioning::MergedEmbeddings; }
  std::unique_ptr<DecoderSession> open_session(const SessionOptions& options) const override;

 protected:
  // `inv_freq`: 1-D rotary frequencies of generated positions.
  TextModelDecoder(Backend& backend, TextModel model, std::vector<float> inv_freq)
      : backend_(&backend), model_(std::move(model)), inv_freq_(std::move(inv_freq)) {}
  virtual std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                              Trace* trace) const = 0;

  Backend* backend_;
  TextModel model_;
  std::vector<float> inv_freq_;
};

}  // namespace vlm
