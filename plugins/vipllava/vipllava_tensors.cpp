// The tensors of a VipLlavaForConditionalGeneration checkpoint, named as transformers v4.47 saves them.
#include "vipllava_family.hpp"

namespace vlm::vipllava {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  ClipVisionTower::declare(specs, "vision_tower.vision_model", c.vision);
  add_norm(specs, "multi_modal_projector.projector_layernorm", c.projector_input(), true);
  add_linear(specs, "multi_modal_projector.linear_1", c.projector_input(), c.text.hidden_size, true);
  add_linear(specs, "multi_modal_projector.linear_2", c.text.hidden_size, c.text.hidden_size, true);
  TextModel::declare(specs, c.text_model());
  return specs;
}

}  // namespace vlm::vipllava
