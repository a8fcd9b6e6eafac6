#include "vlm/nn/rotary.hpp"

#include <cmath>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

void check_table(const Tensor& t, int64_t rows, int64_t width, const char* what) {
  if (!t.is_host() || t.dtype() != DType::F32 || t.numel() != rows * width)
    fail("rotary tables: {} must be a host f32 tensor of {} x {} values, got {} {}", what, rows, width,
         dtype_name(t.dtype()), t.shape().str());
}

// Writes one row from its half-width angles: [cos(a), cos(a)] and [sin(a), sin(a)].
void write_row(const float* angles, int64_t half, float* cos_row, float* sin_row) {
  for (int64_t i = 0; i < half; ++i) {
    const float c = std::cos(angles[i]), s = std::sin(angles[i]);
    cos_row[i] = cos_row[i + half] = c;
    sin_row[i] = sin_row[i + half] = s;
  }
}

}  // namespace

std::vector<float> rope_inverse_frequencies(int64_t dim, double theta) {
  std::vector<float> inv(size_t(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i) {
    // torch: base ** (arange(0, dim, 2).float() / dim) in f32, then 1 / that in f32.
    const float exponent = float(2 * i) / float(dim);
    const float power = std::pow(float(theta), exponent);
    inv[size_t(i)] = 1.0f / power;
  }
  return inv;
}

RopeScaling RopeScaling::from(const ConfigView& view) {
  RopeScaling s;
  s.type = view.get_any_or<std::string>({"rope_type", "type"}, "default");
  if (s.type == "default") return s;
  if (s.type != "linear" && s.type != "llama3")
    fail("{}: rope type '{}' is not supported (default, linear, llama3)", view.where("rope_type"), s.type);
  s.factor = view.get<double>("factor");
  if (!(s.factor >= 1.0)) fail("{}: must be at least 1, found {}", view.where("factor"), s.factor);
  if (s.type == "llama3") {
    s.low_freq_factor = view.get<double>("low_freq_factor");
    s.high_freq_factor = view.get<double>("high_freq_factor");
    s.original_max_position_embeddings = view.get<int64_t>("original_max_position_embeddings");
    if (!(s.high_freq_factor > s.low_freq_factor) || s.low_freq_factor <= 0 || s.original_max_position_embeddings <= 0)
      fail("{}: llama3 scaling needs 0 < low_freq_factor < high_freq_factor and a positive "
           "original_max_position_embeddings",
           view.where("low_freq_factor"));
  }
  return s;
}

std::vector<float> rope_inverse_frequencies(int64_t dim, double theta, const RopeScaling& scaling) {
  std::vector<float> inv = rope_inverse_frequencies(dim, theta);
  const float factor = float(scaling.factor);
  if (scaling.type == "linear") {
    for (float& f : inv) f /= factor;
  } else if (scaling.type == "llama3") {
    // transformers' _compute_llama3_parameters, in its f32 arithmetic and order.
    const double old_context = double(scaling.original_max_position_embeddings);
    const float low_wavelen = float(old_context / scaling.low_freq_factor);
    const float high_wavelen = float(old_context / scaling.high_freq_factor);
    const float low = float(scaling.low_freq_factor), span = float(scaling.high_freq_factor - scaling.low_freq_factor);
    for (float& f : inv) {
      const float wavelen = float(2.0 * M_PI) / f;
      const float scaled = wavelen > low_wavelen ? f / factor : f;
      const float smooth = (float(old_context) / wavelen - low) / span;
      const float smoothed = (1.0f - smooth) * scaled / factor + smooth * scaled;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      f = medium ? smoothed : scaled;
    }
  }
  return inv;
}

void rope_tables_1d(std::span<const int64_t> positions, std::span<const float> inv_freq, Tensor& cos, Tensor& sin) {
  const int64_t rows = int64_t(positions.size()), half = int64_t(inv_freq.size());
  check_table(cos, rows, 2 * half, "cos");
  check_table(sin, rows, 2 * half, "sin");
  std::vector<float> angles(static_cast<size_t>(half));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < half; ++i) angles[size_t(i)] = float(positions[size_t(r)]) * inv_freq[size_t(i)];
    write_row(angles.data(), half, cos.data<float>() + r * 2 * half, sin.data<float>() + r * 2 * half);
  }
}

void rope_tables_2d(std::span<const int64_t> h, std::span<const int64_t> w, std::span<const float> inv_freq, Tensor& cos,
                    Tensor& sin) {
  if (h.size() != w.size()) fail("rope_tables_2d: {} row positions but {} column positions", h.size(), w.size());
  const int64_t rows = int64_t(h.size()), n = int64_t(inv_freq.size()), half = 2 * n;
  check_table(cos, rows, 2 * half, "cos");
  check_table(sin, rows, 2 * half, "sin");
  std::vector<float> angles(static_cast<size_t>(half));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      angles[size_t(i)] = float(h[size_t(r)]) * inv_freq[size_t(i)];
      angles[size_t(n + i)] = float(w[size_t(r)]) * inv_freq[size_t(i)];
    }
    write_row(angles.data(), half, cos.data<float>() + r * 2 * half, sin.data<float>() + r * 2 * half);
  }
}

void rope_tables_mrope(std::span<const int64_t> positions_thw, int64_t rows, std::span<const float> inv_freq,
                       const std::array<int64_t, 3>& sections, Tensor& cos, Tensor& sin) {
  const int64_t half = int64_t(inv_freq.size());
  if (sections[0] + sections[1] + sections[2] != half)
    fail("rope_tables_mrope: sections [{}, {}, {}] do not sum to {}", sections[0], sections[1], sections[2], half);
  if (int64_t(positions_thw.size()) != 3 * rows)
    fail("rope_tables_mrope: expected 3 x {} positions, got {}", rows, positions_thw.size());
  check_table(cos, rows, 2 * half, "cos");
  check_table(sin, rows, 2 * half, "sin");
  std::vector<int> stream(static_cast<size_t>(half));
  for (int64_t i = 0, s = 0, end = sections[0]; i < half; ++i) {
    while (i >= end) end += sections[size_t(++s)];
    stream[size_t(i)] = int(s);
  }
  std::vector<float> angles(static_cast<size_t>(half));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < half; ++i)
      angles[size_t(i)] = float(positions_thw[size_t(stream[size_t(i)] * rows + r)]) * inv_freq[size_t(i)];
    write_row(angles.data(), half, cos.data<float>() + r * 2 * half, sin.data<float>() + r * 2 * half);
  }
}

}  // namespace vlm
