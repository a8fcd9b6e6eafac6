#include "resample_coefficients.hpp"

#include <cmath>
#include <limits>

#include "vlm/util/error.hpp"

namespace vlm::image_detail {

namespace {

// The filter kernels. The arithmetic is written in the same order as Pillow's so the double weights (and
// hence their fixed-point roundings) are identical; this file is compiled with -ffp-contract=off.
double box_kernel(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double triangle_kernel(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_kernel(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  // Pillow writes these constants as float literals (0.54f, 0.46f); their float values matter.
  return std::sin(x) / x * (double(0.54f) + double(0.46f) * std::cos(x));
}

// Keys' cubic convolution with a = -0.5.
double cubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos3_kernel(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

struct Kernel {
  double (*evaluate)(double);
  double support;  // half-width at scale 1
};

Kernel kernel_for(Resample filter) {
  switch (filter) {
    case Resample::Box: return {box_kernel, 0.5};
    case Resample::Bilinear: return {triangle_kernel, 1.0};
    case Resample::Hamming: return {hamming_kernel, 1.0};
    case Resample::Bicubic: return {cubic_kernel, 2.0};
    case Resample::Lanczos: return {lanczos3_kernel, 3.0};
    case Resample::Nearest: break;
  }
  fail("resize: no convolution kernel for the {} filter", resample_name(filter));
}

int32_t to_fixed_point(double weight) {
  const double scaled = weight * double(1 << kWeightFractionBits);
  return int32_t(weight < 0 ? -0.5 + scaled : 0.5 + scaled);  // truncation, as Pillow's (int) cast
}

}  // namespace

AxisWeights compute_axis_weights(int input_size, int output_size, Resample filter) {
  const Kernel kernel = kernel_for(filter);
  // Pillow passes the box as floats; (float)input_size is exact below 2^24 but kept for fidelity.
  const double scale = double(float(input_size)) / output_size;
  const double filter_scale = scale < 1.0 ? 1.0 : scale;  // upsampling keeps the kernel's own width
  const double support = kernel.support * filter_scale;
  const int taps = int(std::ceil(support)) * 2 + 1;
  if (int64_t(output_size) * taps > std::numeric_limits<int32_t>::max() / int64_t(sizeof(double)))
    fail("resize: {} output samples with {} taps each is too large", output_size, taps);

  AxisWeights result;
  result.taps = taps;
  result.first_input.resize(size_t(output_size));
  result.input_count.resize(size_t(output_size));
  result.weights.assign(size_t(output_size) * size_t(taps), 0);
  std::vector<double> raw(static_cast<size_t>(taps));
  const double inverse_scale = 1.0 / filter_scale;
  for (int out = 0; out < output_size; ++out) {
    const double center = (out + 0.5) * scale;
    int first = int(center - support + 0.5);
    if (first < 0) first = 0;
    int last = int(center + support + 0.5);
    if (last > input_size) last = input_size;
    const int count = last - first;
    double total = 0.0;
    for (int i = 0; i < count; ++i) {
      const double w = kernel.evaluate((i + first - center + 0.5) * inverse_scale);
      raw[size_t(i)] = w;
      total += w;
    }
    int32_t* fixed = &result.weights[size_t(out) * size_t(taps)];
    for (int i = 0; i < count; ++i)
      fixed[i] = to_fixed_point(total != 0.0 ? raw[size_t(i)] / total : raw[size_t(i)]);
    result.first_input[size_t(out)] = first;
    result.input_count[size_t(out)] = count < 0 ? 0 : count;
  }
  return result;
}

}  // namespace vlm::image_detail
