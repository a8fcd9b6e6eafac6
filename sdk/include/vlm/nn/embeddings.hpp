#pragma once
// BERT-family input embeddings (BERT, RoBERTa, BridgeTower's text encoder): token + learned absolute
// position + token type embeddings, summed, then LayerNorm.
#include <span>
#include <string>
#include <vector>

#include "vlm/model/tensor_spec.hpp"
#include "vlm/nn/layers.hpp"
#include "vlm/nn/workspace.hpp"

namespace vlm {

struct TextEmbeddingsConfig {
  int64_t vocab_size = 0, hidden = 0, max_positions = 0;
  int64_t type_vocab_size = 0;  // 0: no token-type table
  float norm_eps = 1e-12f;
  // >= 0 (RoBERTa): positions come from the ids, padding_idx + the count of non-padding ids so far (padding
  // itself sits at padding_idx); < 0 (BERT): 0, 1, 2, ...
  int64_t padding_idx = -1;
};

// HF names under the embeddings prefix (BERT's and RoBERTa's).
struct TextEmbeddingsNames {
  std::string word = "word_embeddings", position = "position_embeddings", token_type = "token_type_embeddings";
  std::string norm = "LayerNorm";
};

// RoBERTa's create_position_ids_from_input_ids for one row.
std::vector<int64_t> positions_from_ids(std::span<const int64_t> ids, int64_t padding_idx);

class TextEmbeddings {
 public:
  static TextEmbeddings load(const WeightLoader& weights, const std::string& prefix, const TextEmbeddingsConfig& config,
                             const TextEmbeddingsNames& names = {});
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const TextEmbeddingsConfig& config,
                      const TextEmbeddingsNames& names = {});
  static void add_ops(std::vector<Op>& ops);
  // One row: ids (host, n) -> out [n, hidden] on the backend. token_types empty = all 0; positions empty =
  // as the config says. Errors name an id, type or position outside its table.
  void forward(Workspace& ws, std::span<const int64_t> ids, std::span<const int64_t> token_types,
               std::span<const int64_t> positions, Tensor& out) const;
  const TextEmbeddingsConfig& config() const { return config_; }

 private:
  TextEmbeddingsConfig config_;
  Tensor word_, position_, token_type_;
  Norm norm_;
};

}  // namespace vlm
