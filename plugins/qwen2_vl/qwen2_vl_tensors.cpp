// The tensors of a Qwen2VLForConditionalGeneration checkpoint, named as transformers v4.47 saves them.
#include "qwen2_vl_family.hpp"

namespace vlm::qwen2_vl {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  const auto& v = c.vision;
  // Conv3d patch embedding without bias: [embed, C, T, P, P].
  specs.push_back({"visual.patch_embed.proj.weight",
                   Shape{v.embed_dim, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size}});
  for (int64_t i = 0; i < v.depth; ++i)
    VitBlock::declare(specs, "visual.blocks." + std::to_string(i), v.block(), v.block_names());
  add_norm(specs, "visual.merger.ln_q", v.embed_dim, true);
  add_linear(specs, "visual.merger.mlp.0", v.merged_dim(), v.merged_dim(), true);
  add_linear(specs, "visual.merger.mlp.2", v.merged_dim(), v.hidden_size, true);

  TextModel::declare(specs, c.text_model());
  return specs;
}

}  // namespace vlm::qwen2_vl
