#pragma once
// OpenMP helpers. Work smaller than a few thousand elements runs on the calling thread: waking the team
// costs more than it saves.
#include <algorithm>
#include <cstdint>

namespace vlm::cpu {

// Calls body(i) for i in [0, count); parallel when count * work_per_item is worth it.
template <typename Body>
void parallel_for(int64_t count, int64_t work_per_item, Body&& body) {
  const bool worth_it = count > 1 && count * work_per_item >= 16384;
#pragma omp parallel for schedule(static) if (worth_it)
  for (int64_t i = 0; i < count; ++i) body(i);
}

// Calls body(begin, end) over [0, count) in contiguous chunks of at most `chunk` items.
template <typename Body>
void parallel_chunks(int64_t count, int64_t chunk, Body&& body) {
  const int64_t chunks = (count + chunk - 1) / chunk;
  parallel_for(chunks, chunk, [&](int64_t c) { body(c * chunk, std::min(count, (c + 1) * chunk)); });
}

}  // namespace vlm::cpu
