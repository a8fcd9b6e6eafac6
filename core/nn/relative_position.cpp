#include "vlm/nn/relative_position.hpp"

#include <cmath>
#include <cstdlib>

#include "vlm/util/error.hpp"

namespace vlm {

int64_t relative_position_bucket(int64_t distance, const RelativePositionConfig& c) {
  int64_t buckets = c.buckets, bucket = 0, d = distance;
  if (c.bidirectional) {
    buckets /= 2;
    if (d > 0) bucket += buckets;
    d = std::abs(d);
  } else {
    d = d < 0 ? -d : 0;  // only keys at or before the query count
  }
  const int64_t max_exact = buckets / 2;
  if (d < max_exact) return bucket + d;
  // float32 arithmetic, truncated, as torch computes it
  const float scaled = std::log(float(d) / float(max_exact)) / float(std::log(double(c.max_distance) / double(max_exact))) *
                       float(buckets - max_exact);
  const int64_t large = std::min<int64_t>(max_exact + int64_t(scaled), buckets - 1);
  return bucket + large;
}

RelativePositionBias RelativePositionBias::load(const WeightLoader& weights, const std::string& name, int64_t heads,
                                                const RelativePositionConfig& config) {
  if (config.buckets < 2 || config.max_distance < 1 || heads < 1)
    fail("{}: relative attention needs at least 2 buckets, a positive max distance and heads (got {}, {}, {})", name,
         config.buckets, config.max_distance, heads);
  RelativePositionBias b;
  b.config_ = config;
  b.heads_ = heads;
  const Tensor table = weights.checkpoint().tensor(name + ".weight", Shape{config.buckets, heads}).to(DType::F32);
  b.table_.assign(table.data<float>(), table.data<float>() + table.numel());
  // Beyond max_distance every bucket saturates, so [0, max_distance] covers every distance.
  for (int64_t d = 0; d <= config.max_distance; ++d) {
    b.bucket_before_.push_back(int32_t(relative_position_bucket(-d, config)));
    b.bucket_after_.push_back(int32_t(relative_position_bucket(d, config)));
  }
  return b;
}

void RelativePositionBias::declare(std::vector<TensorSpec>& specs, const std::string& name, int64_t heads,
                                   const RelativePositionConfig& config) {
  specs.push_back({name + ".weight", Shape{config.buckets, heads}});
}

float RelativePositionBias::value(int64_t head, int64_t distance) const {
  const int64_t d = std::min<int64_t>(std::abs(distance), config_.max_distance);
  const int32_t bucket = distance < 0 ? bucket_before_[size_t(d)] : bucket_after_[size_t(d)];
  return table_[size_t(bucket * heads_ + head)];
}

void RelativePositionBias::fill(std::span<const int64_t> queries, std::span<const int64_t> keys, float* out) const {
  const size_t nq = queries.size(), nk = keys.size();
  for (int64_t h = 0; h < heads_; ++h)
    for (size_t i = 0; i < nq; ++i) {
      float* row = out + (size_t(h) * nq + i) * nk;
      for (size_t j = 0; j < nk; ++j) row[j] = value(h, keys[j] - queries[i]);
    }
}

void RelativePositionBias::fill(int64_t first, int64_t count, int64_t keys, float* out) const {
  for (int64_t h = 0; h < heads_; ++h)
    for (int64_t i = 0; i < count; ++i) {
      float* row = out + (h * count + i) * keys;
      for (int64_t j = 0; j < keys; ++j) row[j] = value(h, j - (first + i));
    }
}

}  // namespace vlm
