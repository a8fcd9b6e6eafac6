#include "metrics.hpp"

#include <fmt/format.h>

namespace vlm::host::serve {

void Metrics::Histogram::observe(double v) {
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (v <= kBounds[i]) ++counts[i];
  ++total;
  sum += v;
}

void Metrics::Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  for (size_t i = 0; i < kBounds.size(); ++i) out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], counts[i]);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, total, name, sum, name, total);
}

void Metrics::request_done(int status) {
  std::lock_guard lock(mutex_);
  ++requests_[status];
}

void Metrics::tokens(int64_t prompt, int64_t completion) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += uint64_t(prompt);
  completion_tokens_ += uint64_t(completion);
}

void Metrics::time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::inter_token(double seconds) {
  std::lock_guard lock(mutex_);
  itl_.observe(seconds);
}

void Metrics::cache(int64_t hits, int64_t misses) {
  std::lock_guard lock(mutex_);
  cache_hits_ += uint64_t(hits);
  cache_misses_ += uint64_t(misses);
}

std::string Metrics::render(int64_t queue, int64_t active) const {
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP vlm_requests_total Finished HTTP requests by status.\n# TYPE vlm_requests_total counter\n";
  for (const auto& [status, n] : requests_) out += fmt::format("vlm_requests_total{{status=\"{}\"}} {}\n", status, n);
  out += fmt::format("# HELP vlm_prompt_tokens_total Prompt tokens processed.\n# TYPE vlm_prompt_tokens_total counter\n"
                     "vlm_prompt_tokens_total {}\n", prompt_tokens_);
  out += fmt::format("# HELP vlm_completion_tokens_total Tokens generated.\n# TYPE vlm_completion_tokens_total counter\n"
                     "vlm_completion_tokens_total {}\n", completion_tokens_);
  out += fmt::format("# HELP vlm_image_cache_hits_total Images whose features came from the cache.\n"
                     "# TYPE vlm_image_cache_hits_total counter\nvlm_image_cache_hits_total {}\n", cache_hits_);
  out += fmt::format("# HELP vlm_image_cache_misses_total Images encoded.\n"
                     "# TYPE vlm_image_cache_misses_total counter\nvlm_image_cache_misses_total {}\n", cache_misses_);
  out += fmt::format("# HELP vlm_queue_depth Requests waiting for a sequence slot.\n# TYPE vlm_queue_depth gauge\n"
                     "vlm_queue_depth {}\n", queue);
  out += fmt::format("# HELP vlm_active_sequences Sequences being generated.\n# TYPE vlm_active_sequences gauge\n"
                     "vlm_active_sequences {}\n", active);
  ttft_.render(out, "vlm_time_to_first_token_seconds", "Time from admission request to the first generated token.");
  itl_.render(out, "vlm_inter_token_latency_seconds", "Time between consecutive generated tokens of a request.");
  return out;
}

}  // namespace vlm::host::serve
