#pragma once
// Counters and latency histograms for GET /metrics (Prometheus text format 0.0.4).
#include <array>
#include <map>
#include <mutex>
#include <string>

namespace vlm::host::serve {

class Metrics {
 public:
  void request_done(int status);
  void tokens(int64_t prompt, int64_t completion);
  void time_to_first_token(double seconds);
  void inter_token(double seconds);
  void cache(int64_t hits, int64_t misses);
  // `queue` and `active` are sampled when scraped.
  std::string render(int64_t queue, int64_t active) const;

 private:
  struct Histogram {
    static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    std::array<uint64_t, kBounds.size()> counts{};
    uint64_t total = 0;
    double sum = 0;
    void observe(double v);
    void render(std::string& out, const std::string& name, const std::string& help) const;
  };
  mutable std::mutex mutex_;
  std::map<int, uint64_t> requests_;
  uint64_t prompt_tokens_ = 0, completion_tokens_ = 0, cache_hits_ = 0, cache_misses_ = 0;
  Histogram ttft_, itl_;
};

}  // namespace vlm::host::serve
