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
  struct Encoded;  // one forward's states (host or backend tensors)

  Encoded encode(Workspace& ws, const ModelInputs& inputs, bool need_cross, Trace* trace) const;

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
