#include "vlm/score/score.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

Scorer& scorer_for(Model& model, std::string_view task) {
  Scorer* scorer = model.scorer();
  if (!scorer) fail("this model has no scoring heads (it generates text: use `vlm run`)");
  const auto tasks = scorer->tasks();
  if (std::find(tasks.begin(), tasks.end(), task) == tasks.end())
    fail("task '{}' is not available for this model (it has: {})", task, fmt::join(tasks, ", "));
  return *scorer;
}

}  // namespace

TensorMap score_inputs(Model& model, const ModelInputs& inputs, std::string_view task, Trace* trace) {
  Scorer& scorer = scorer_for(model, task);
  record_inputs(inputs, trace);
  return scorer.score(task, inputs, trace);
}

TensorMap score_prompts(Model& model, std::span<const Prompt> prompts, std::string_view task, Trace* trace) {
  scorer_for(model, task);  // before any image is processed
  if (prompts.empty()) fail("nothing to score: no prompt");
  return score_inputs(model, model.processor().prepare(prompts), task, trace);
}

FillMaskResult fill_masks(const Tensor& logits, const Tensor& input_ids, const Tensor& attention_mask, int64_t mask_id,
                          int64_t top_k) {
  if (logits.rank() != 3 || input_ids.rank() != 2 || logits.dim(0) != input_ids.dim(0) ||
      logits.dim(1) != input_ids.dim(1))
    fail("fill-mask: logits {} do not match input_ids {}", logits.shape().str(), input_ids.shape().str());
  const Tensor scores = logits.to(DType::F32);
  const int64_t B = logits.dim(0), S = logits.dim(1), V = logits.dim(2);
  const int64_t k = std::clamp<int64_t>(top_k, 1, V);
  FillMaskResult result;
  result.argmax_ids = Tensor::zeros(Shape{B, S}, DType::I64);
  result.filled_ids = input_ids.clone();
  std::vector<int64_t> order(static_cast<size_t>(V));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      if (attention_mask.data<int64_t>()[b * S + s] == 0) continue;
      const float* row = scores.data<float>() + (b * S + s) * V;
      // torch.argmax: the first maximum.
      const int64_t best = std::max_element(row, row + V) - row;
      result.argmax_ids.data<int64_t>()[b * S + s] = best;
      if (input_ids.data<int64_t>()[b * S + s] != mask_id) continue;
      result.filled_ids.data<int64_t>()[b * S + s] = best;
      const float top = row[best];
      double sum = 0;
      for (int64_t v = 0; v < V; ++v) sum += std::exp(double(row[v]) - top);
      std::iota(order.begin(), order.end(), 0);
      // Highest first; equal scores keep the lower id first.
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t x, int64_t y) {
        return row[x] > row[y] || (row[x] == row[y] && x < y);
      });
      MaskPrediction p{b, s, {}, {}};
      for (int64_t i = 0; i < k; ++i) {
        p.ids.push_back(order[size_t(i)]);
        p.probabilities.push_back(float(std::exp(double(row[order[size_t(i)]]) - top) / sum));
      }
      result.masks.push_back(std::move(p));
    }
  return result;
}

}  // namespace vlm
