#pragma once
// BridgeTowerModel and its three heads (transformers v4.47.1) as one Scorer:
//   text:   RoBERTa embeddings and layers (uni-modal), the states of the last num_hidden_layers + 1 kept;
//   vision: the OpenAI-CLIP tower, ln_post on each state the cross-modal part reads;
//   cross-modal: per stream a transform + token-type embedding; the first pair LayerNormed, each later pair
//   joined to the previous cross-modal output by a link tower; BERT cross layers in both streams (each
//   attends to the other's input of that layer); poolers on the first token of each stream.
//   heads: itm (2 logits of the pooled pair), contrastive (L2-normalised text / image / cross embeddings and
//   their similarity matrices), mlm (vocabulary logits of the cross-modal text features).
// Text padding is dropped before the encoders (no real position attends to it, so nothing changes);
// traced per-token tensors hold zeros at padded positions.
#include <memory>
#include <optional>

#include "bridgetower_config.hpp"
#include "bridgetower_processor.hpp"
#include "vlm/model/family.hpp"
#include "vlm/nn/clip_vision.hpp"
#include "vlm/nn/embeddings.hpp"
#include "vlm/nn/layers.hpp"
#include "vlm/nn/workspace.hpp"

namespace vlm::bridgetower {

class Model final : public vlm::Model, public vlm::Scorer {
 public:
  explicit Model(const LoadContext& context);
  static void declare(std::vector<TensorSpec>& specs, const Config& config);
  static void add_ops(std::vector<Op>& ops, const Config& config);

  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  vlm::Scorer* scorer() override { return this; }

  std::vector<std::string> tasks() const override;
  TensorMap score(std::string_view task, const ModelInputs& inputs, Trace* trace) override;

  // Retrieval: "itm" keeps each image's and each text's cross-modal inputs (every layer's transformed
  // uni-modal state) and runs the cross-modal layers per pair; "itc" keeps only the contrastive embedding.
  std::vector<std::string> retrieval_methods() const override;
  std::vector<std::unique_ptr<Encoding>> encode_images(std::string_view method, std::span<const Image> images) override;
  std::vector<std::unique_ptr<Encoding>> encode_texts(std::string_view method,
                                                       std::span<const std::string> texts) override;
  Tensor score_pairs(std::string_view method, std::span<const Encoding* const> images,
                     std::span<const Encoding* const> texts) override;

 private:
  struct Link {
    Norm norm;
    float scale = 1.0f, beta = 0.5f;  // scaled_add's scaled_factor; interpolate's beta
  };
  struct Heads {  // each present when the checkpoint holds its weights
    std::optional<Linear> itm;
    std::optional<Linear> itc_text, itc_image, itc_cross;
    float logit_scale = 0.0f;  // exp(logit_scale)
    std::optional<Linear> mlm_dense, mlm_decoder;
    Norm mlm_norm;
    Tensor mlm_bias;
  };
  struct TextStates {  // the uni-modal text encoder's states the cross-modal part reads
    std::vector<int64_t> lengths;  // real tokens per row (padding dropped)
    int64_t width = 0;             // the padded length of the input rows
    std::vector<Tensor> states;    // states split_index..L, packed [T, H] on the backend
  };
  struct CrossOutput {
    Tensor text_features, image_features;  // packed, on the backend
    Tensor pooled;                         // [B, 2H] host
  };

  TextStates encode_text(Workspace& ws, const Tensor& input_ids, const Tensor& attention_mask, Trace* trace) const;
  // ln_post of the vision states split_index..L (only L when `last_only`): [B * N, H] each, on the backend.
  std::vector<Tensor> encode_vision(const Tensor& pixel_values, bool last_only, Trace* trace) const;
  // Each cross-modal layer's input from a stream's states: transform + token type; the first LayerNormed.
  std::vector<Tensor> cross_inputs(const std::vector<Tensor>& states, bool image) const;
  CrossOutput cross_modal(Workspace& ws, std::span<const Tensor> text_inputs, const std::vector<int64_t>& text_lengths,
                          std::span<const Tensor> image_inputs, const std::vector<int64_t>& image_lengths,
                          int64_t width, Trace* trace) const;
  // Contrastive embeddings (host [B, E], L2-normalised) from the last text state / ln_post'd vision state.
  Tensor text_embeddings(Workspace& ws, const Tensor& last_state, const std::vector<int64_t>& lengths) const;
  Tensor image_embeddings(Workspace& ws, const Tensor& last_state, const std::vector<int64_t>& lengths) const;
  Tensor itm_logits(Workspace& ws, const Tensor& pooled) const;  // [B, 2] host
  Tensor on_host(Workspace& ws, const Linear& linear, const Tensor& host_rows, const std::string& slot) const;
  void check_method(std::string_view method) const;
  int64_t image_tokens() const { return config_.vision.clip().num_patches() + 1; }

  Config config_;
  Backend* backend_;
  std::unique_ptr<Processor> processor_;
  TextEmbeddings text_embeddings_;
  std::vector<EncoderLayer> text_layers_;
  ClipVisionTower vision_;
  Linear text_transform_, image_transform_;
  Tensor token_types_;  // [2, hidden] f32: text row 0, image row 1
  Norm text_norm_, image_norm_;
  std::vector<Link> text_links_, image_links_;
  std::vector<EncoderLayer> cross_text_, cross_image_;
  Linear text_pooler_, image_pooler_;
  Heads heads_;
  std::shared_ptr<WorkspacePool> workspaces_;
};

}  // namespace vlm::bridgetower
