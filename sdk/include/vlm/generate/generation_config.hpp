#pragma once
// Generation settings with Hugging Face's semantics and defaults (GenerationConfig of transformers 4.47):
// generation_config.json decides unless the user overrides; do_sample=false means greedy.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vlm/io/config.hpp"

namespace vlm {

struct GenerationConfig {
  int64_t max_new_tokens = 20;
  int64_t min_new_tokens = 0;  // eos is suppressed until this many tokens exist (HF MinNewTokensLength)
  bool do_sample = false;
  double temperature = 1.0;
  int64_t top_k = 50;
  double top_p = 1.0;
  double min_p = 0.0;  // 0 = off
  double repetition_penalty = 1.0;
  uint64_t seed = 0;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::vector<std::string> stop_strings;
  bool ignore_eos = false;
  // Log-probabilities returned with each generated token (Generator's StepEvent): -1 = none; 0 = the
  // token's own; N = also the N most likely tokens. Of the model's raw distribution (before temperature,
  // penalties or truncation), as vLLM and llama.cpp report them.
  int64_t logprobs = -1;

  // From generation_config.json (and config.json for eos/pad when the former lacks them).
  static GenerationConfig from_checkpoint(const ConfigView& generation_config, const ConfigView& model_config);
  // Applies overrides given as JSON (the keys above, as in configs/models/*.yaml "generation").
  void apply(const Json& overrides);
};

}  // namespace vlm
