#pragma once
// Turns one row of logits into the next token, applying Hugging Face's logits processors in HF's order:
// repetition penalty, min-new-tokens eos suppression, then (sampling only) temperature, top-k, top-p,
// min-p. Buffers are reused across calls: no allocation per token once warmed up.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "vlm/generate/generation_config.hpp"

namespace vlm {

class Sampler {
 public:
  explicit Sampler(const GenerationConfig& config);
  // `logits` are modified in place. `history` holds the row's prompt and generated ids (for the repetition
  // penalty); `generated` is how many tokens the row has generated so far.
  int64_t next(std::span<float> logits, std::span<const int64_t> history, int64_t generated);

 private:
  GenerationConfig config_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  std::vector<float> probs_;
};

}  // namespace vlm
