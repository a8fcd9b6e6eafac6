#include "vlm/generate/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace vlm {

Sampler::Sampler(const GenerationConfig& config) : config_(config), rng_(config.seed) {}

int64_t Sampler::next(std::span<float> logits, std::span<const int64_t> history, int64_t generated) {
  const int64_t vocab = int64_t(logits.size());
  constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

  if (config_.repetition_penalty != 1.0) {
    // HF gathers the scores of every id seen once, then scatters the penalised values back.
    const float penalty = float(config_.repetition_penalty);
    probs_.assign(history.size(), 0.0f);
    for (size_t i = 0; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < vocab) {
        const float s = logits[size_t(history[i])];
        probs_[i] = s < 0 ? s * penalty : s / penalty;
      }
    for (size_t i = 0; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < vocab) logits[size_t(history[i])] = probs_[i];
  }
  if (generated < config_.min_new_tokens)
    for (const int64_t eos : config_.eos_token_ids)
      if (eos >= 0 && eos < vocab) logits[size_t(eos)] = kMinusInf;

  if (!config_.do_sample || config_.temperature == 0.0) {
    // Greedy: the first maximum, as torch.argmax returns.
    return int64_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }

  if (config_.temperature != 1.0)
    for (auto& l : logits) l = float(l / config_.temperature);

  order_.resize(size_t(vocab));
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [&](int64_t a, int64_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  int64_t keep = vocab;
  if (config_.top_k > 0 && config_.top_k < vocab) {
    // Ties with the k-th value survive, as HF keeps every score >= the k-th largest.
    const float kth = logits[size_t(order_[size_t(config_.top_k - 1)])];
    keep = config_.top_k;
    while (keep < vocab && logits[size_t(order_[size_t(keep)])] >= kth) ++keep;
  }
  // Probabilities over the kept candidates.
  auto softmax_kept = [&](int64_t count) {
    probs_.resize(size_t(count));
    const float max = logits[size_t(order_[0])];
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) sum += probs_[size_t(i)] = std::exp(logits[size_t(order_[size_t(i)])] - max);
    for (int64_t i = 0; i < count; ++i) probs_[size_t(i)] = float(probs_[size_t(i)] / sum);
  };
  softmax_kept(keep);
  if (config_.top_p < 1.0) {
    // Smallest prefix of the sorted candidates whose mass reaches top_p (at least one token).
    double cumulative = 0;
    int64_t cut = 0;
    while (cut < keep) {
      cumulative += probs_[size_t(cut)];
      ++cut;
      if (cumulative >= config_.top_p) break;
    }
    keep = std::max<int64_t>(cut, 1);
    softmax_kept(keep);
  }
  if (config_.min_p > 0.0) {
    const float threshold = float(config_.min_p) * probs_[0];
    int64_t cut = 1;
    while (cut < keep && probs_[size_t(cut)] >= threshold) ++cut;
    keep = cut;
    softmax_kept(keep);
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double r = uniform(rng_), cumulative = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cumulative += probs_[size_t(i)];
    if (r < cumulative) return order_[size_t(i)];
  }
  return order_[size_t(keep - 1)];
}

}  // namespace vlm
