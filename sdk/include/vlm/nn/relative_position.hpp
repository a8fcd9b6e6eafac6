#pragma once
// T5's relative position bias: a learned [buckets, heads] table indexed by the bucket of each key's
// distance from the query (exact for small distances, logarithmic up to max_distance, then saturated),
// added to the attention scores of every layer of a stack. Bidirectional buckets split the table between
// keys before and after the query (encoders); causal ones only look back (decoders).
#include <span>
#include <string>
#include <vector>

#include "vlm/model/tensor_spec.hpp"
#include "vlm/nn/weights.hpp"

namespace vlm {

struct RelativePositionConfig {
  int64_t buckets = 32, max_distance = 128;
  bool bidirectional = true;
};

// Hugging Face's T5Attention._relative_position_bucket for distance = key position - query position.
int64_t relative_position_bucket(int64_t distance, const RelativePositionConfig& config);

class RelativePositionBias {
 public:
  // `name` is the embedding's prefix ("...SelfAttention.relative_attention_bias"); the table is read to
  // the host once (it is tiny) and each distance's bucket precomputed, so filling a bias is a lookup.
  static RelativePositionBias load(const WeightLoader& weights, const std::string& name, int64_t heads,
                                   const RelativePositionConfig& config);
  static void declare(std::vector<TensorSpec>& specs, const std::string& name, int64_t heads,
                      const RelativePositionConfig& config);
  bool defined() const { return heads_ > 0; }
  int64_t heads() const { return heads_; }
  // out [heads, queries.size(), keys.size()] (host f32): the bias of each key position for each query.
  void fill(std::span<const int64_t> queries, std::span<const int64_t> keys, float* out) const;
  // The same for queries first..first+count-1 over keys 0..keys-1 (a decoder's rows against its cache).
  void fill(int64_t first, int64_t count, int64_t keys, float* out) const;

 private:
  float value(int64_t head, int64_t distance) const;
  RelativePositionConfig config_;
  int64_t heads_ = 0;
  std::vector<float> table_;            // [buckets, heads]
  std::vector<int32_t> bucket_before_;  // bucket of distance -d for d in [0, max_distance]
  std::vector<int32_t> bucket_after_;   // bucket of distance +d
};

}  // namespace vlm
