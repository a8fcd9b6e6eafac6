#include "qwen2_vl_model.hpp"

namespace vlm::qwen2_vl {

Model::Model(const LoadContext& context) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const Config config = Config::from(checkpoint.config());
  Backend& backend = *context.backend;
  const WeightLoader weights = weight_loader(context);
  processor_ = std::make_unique<Processor>(config, checkpoint, context.options.processor_overrides);
  vision_ = std::make_unique<VisionTower>(config, weights, backend);
  merger_ = std::make_unique<PatchMerger>(config, weights, backend);
  decoder_ = std::make_unique<TextDecoder>(config, weights, backend);
}

}  // namespace vlm::qwen2_vl
