#include "qwen2_vl_rope_index.hpp"

#include <algorithm>

namespace vlm::qwen2_vl {

RopeIndex rope_index(const Config& c, const int64_t* ids, const int64_t* mask, int64_t batch, int64_t length,
                     const std::vector<Grid>& image_grids,
                     const std::vector<Grid>& video_grids) {
  RopeIndex out;
  out.positions.assign(size_t(3 * batch * length), 1);
  auto at = [&](int stream, int64_t b, int64_t s) -> int64_t& {
    return out.positions[size_t((stream * batch + b) * length + s)];
  };
  const bool has_vision = !image_grids.empty() || !video_grids.empty();
  const int64_t merge = c.vision.spatial_merge_size;
  size_t next_image = 0, next_video = 0;

  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> tokens, slots;  // the row's real tokens and where they sit in the padded row
    for (int64_t s = 0; s < length; ++s)
      if (mask[b * length + s]) {
        tokens.push_back(ids[b * length + s]);
        slots.push_back(s);
      }
    const int64_t n = int64_t(tokens.size());
    std::vector<std::array<int64_t, 3>> pos;  // per real token
    pos.reserve(size_t(n));
    int64_t next_position = 0;  // largest position so far + 1
    auto text_run = [&](int64_t count) {
      for (int64_t i = 0; i < count; ++i) pos.push_back({next_position + i, next_position + i, next_position + i});
      next_position += count;
    };
    if (!has_vision) {
      text_run(n);
    } else {
      // Vision blocks are announced by <|vision_start|> followed by an image or video pad token.
      int64_t images = 0, videos = 0;
      for (int64_t i = 0; i + 1 < n; ++i)
        if (tokens[size_t(i)] == c.vision_start_token_id) {
          images += tokens[size_t(i + 1)] == c.image_token_id;
          videos += tokens[size_t(i + 1)] == c.video_token_id;
        }
      int64_t start = 0;
      const int64_t blocks = images + videos;  // images / videos count down as blocks are placed
      for (int64_t k = 0; k < blocks; ++k) {
        auto find = [&](int64_t token, int64_t remaining) {
          if (remaining <= 0) return n + 1;
          auto it = std::find(tokens.begin() + start, tokens.end(), token);
          return it == tokens.end() ? n + 1 : int64_t(it - tokens.begin());
        };
        const int64_t image_at = find(c.image_token_id, images), video_at = find(c.video_token_id, videos);
        std::array<int64_t, 3> grid;
        int64_t end;
        if (image_at < video_at) {
          if (next_image >= image_grids.size()) fail("the prompts have more images than image_grid_thw rows ({})", image_grids.size());
          grid = image_grids[next_image++];
          --images;
          end = image_at;
        } else {
          if (next_video >= video_grids.size()) fail("the prompts have more videos than video_grid_thw rows ({})", video_grids.size());
          grid = video_grids[next_video++];
          --videos;
          end = video_at;
        }
        const int64_t gt = grid[0], gh = grid[1] / merge, gw = grid[2] / merge;
        text_run(end - start);
        const int64_t base = next_position;
        int64_t largest = base;
        for (int64_t t = 0; t < gt; ++t)
          for (int64_t h = 0; h < gh; ++h)
            for (int64_t w = 0; w < gw; ++w) {
              pos.push_back({base + t, base + h, base + w});
              largest = std::max({largest, base + t, base + h, base + w});
            }
        next_position = largest + 1;
        start = end + gt * gh * gw;
      }
      if (start < n) text_run(n - start);
    }
    if (int64_t(pos.size()) != n)
      fail("row {}: the image/video placeholders do not match the grids ({} positions for {} tokens)", b, pos.size(), n);
    int64_t largest = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int stream = 0; stream < 3; ++stream) {
        at(stream, b, slots[size_t(i)]) = pos[size_t(i)][size_t(stream)];
        largest = std::max(largest, pos[size_t(i)][size_t(stream)]);
      }
    // HF's text-only branch takes the maximum over the padded row, whose padding positions hold 1.
    if (!has_vision && n < length) largest = std::max<int64_t>(largest, 1);
    out.deltas.push_back(largest + 1 - length);
  }
  return out;
}

}  // namespace vlm::qwen2_vl
