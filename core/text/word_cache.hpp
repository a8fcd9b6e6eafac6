#pragma once
// Thread-safe memo of word -> ids for the models (most words repeat). Sharded so concurrent encoders
// rarely contend; it stops growing at its capacity instead of evicting, as HF's cache does.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vocabulary.hpp"

namespace vlm::text_detail {

class WordCache {
 public:
  static constexpr std::size_t kMaxWordBytes = 256;  // longer words are not worth keeping
  static constexpr std::size_t kShards = 16;

  explicit WordCache(std::size_t capacity = 65536) : per_shard_capacity_(capacity / kShards) {}

  // Appends the cached ids of `word` to `out`; false when absent.
  bool lookup(std::string_view word, std::vector<int64_t>& out) const {
    if (word.size() >= kMaxWordBytes) return false;
    auto& shard = shards_[StringHash{}(word) % kShards];
    std::lock_guard lock(shard.mutex);
    auto it = shard.map.find(word);
    if (it == shard.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void store(std::string_view word, const int64_t* ids, std::size_t count) const {
    if (word.size() >= kMaxWordBytes) return;
    auto& shard = shards_[StringHash{}(word) % kShards];
    std::lock_guard lock(shard.mutex);
    if (shard.map.size() >= per_shard_capacity_) return;
    shard.map.try_emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  std::size_t per_shard_capacity_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace vlm::text_detail
