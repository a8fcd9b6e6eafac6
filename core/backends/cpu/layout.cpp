// Data movement: concat, slice, permute, patchify. They copy bytes, so every dtype works.
#include <array>
#include <cstring>
#include <numeric>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "parallel.hpp"

namespace vlm::cpu {
namespace {

int64_t product(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= s[i];
  return p;
}

// Copies `count` elements of `size` bytes from a strided source to a contiguous destination.
template <typename Element>
void gather(const uint8_t* src, int64_t stride, uint8_t* dst, int64_t count) {
  const auto* s = reinterpret_cast<const Element*>(src);
  auto* d = reinterpret_cast<Element*>(dst);
  for (int64_t i = 0; i < count; ++i) d[i] = s[i * stride];
}

void gather_elements(size_t size, const uint8_t* src, int64_t stride, uint8_t* dst, int64_t count) {
  switch (size) {
    case 1: return gather<uint8_t>(src, stride, dst, count);
    case 2: return gather<uint16_t>(src, stride, dst, count);
    case 4: return gather<uint32_t>(src, stride, dst, count);
    default: return gather<uint64_t>(src, stride, dst, count);
  }
}

}  // namespace

void concat(std::span<const Tensor* const> parts, int axis, Tensor& out) {
  constexpr std::string_view op = "concat";
  check_tensor(op, "out", out, kAnyDType);
  check(!parts.empty(), op, "no parts to concatenate");
  const int ax = normalise_axis(op, axis, out.rank());
  int64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    check(parts[i] != nullptr, op, "part {} is null", i);
    const Tensor& part = *parts[i];
    const std::string name = fmt::format("part {}", i);
    check_tensor(op, name, part, {out.dtype()});
    bool ok = part.rank() == out.rank();
    for (int d = 0; ok && d < out.rank(); ++d) ok = d == ax || part.dim(d) == out.dim(d);
    check(ok, op, "{} does not fit {} along axis {}", describe_tensor(name, part), describe_tensor("out", out), ax);
    total += part.dim(ax);
  }
  check(total == out.dim(ax), op, "parts sum to {} along axis {} but {} has {}", total, ax,
        describe_tensor("out", out), out.dim(ax));

  const int64_t outer = product(out.shape(), 0, ax);
  const size_t inner_bytes = size_t(product(out.shape(), ax + 1, out.rank())) * dtype_size(out.dtype());
  const size_t out_row_bytes = size_t(out.dim(ax)) * inner_bytes;
  parallel_for(outer, int64_t(out_row_bytes / 4), [&](int64_t o) {
    auto* dst = static_cast<uint8_t*>(out.raw()) + size_t(o) * out_row_bytes;
    for (const Tensor* part : parts) {
      const size_t part_bytes = size_t(part->dim(ax)) * inner_bytes;
      if (part_bytes) std::memcpy(dst, static_cast<const uint8_t*>(part->raw()) + size_t(o) * part_bytes, part_bytes);
      dst += part_bytes;
    }
  });
}

void slice(const Tensor& x, int axis, int64_t start, Tensor& out) {
  constexpr std::string_view op = "slice";
  check_tensor(op, "x", x, kAnyDType);
  check_tensor(op, "out", out, {x.dtype()});
  const int ax = normalise_axis(op, axis, x.rank());
  bool ok = out.rank() == x.rank();
  for (int d = 0; ok && d < x.rank(); ++d) ok = d == ax || out.dim(d) == x.dim(d);
  check(ok, op, "{} must match {} except along axis {}", describe_tensor("out", out), describe_tensor("x", x), ax);
  check(start >= 0 && start + out.dim(ax) <= x.dim(ax), op, "[{}, {}) is out of range for axis {} of {}", start,
        start + out.dim(ax), ax, describe_tensor("x", x));

  const int64_t outer = product(x.shape(), 0, ax);
  const size_t inner_bytes = size_t(product(x.shape(), ax + 1, x.rank())) * dtype_size(x.dtype());
  const size_t in_row_bytes = size_t(x.dim(ax)) * inner_bytes;
  const size_t out_row_bytes = size_t(out.dim(ax)) * inner_bytes;
  if (out_row_bytes == 0) return;
  parallel_for(outer, int64_t(out_row_bytes / 4), [&](int64_t o) {
    std::memcpy(static_cast<uint8_t*>(out.raw()) + size_t(o) * out_row_bytes,
                static_cast<const uint8_t*>(x.raw()) + size_t(o) * in_row_bytes + size_t(start) * inner_bytes,
                out_row_bytes);
  });
}

void permute(const Tensor& x, std::span<const int> perm, Tensor& out) {
  constexpr std::string_view op = "permute";
  check_tensor(op, "x", x, kAnyDType);
  check_tensor(op, "out", out, {x.dtype()});
  const int rank = x.rank();
  check(int(perm.size()) == rank && rank >= 1, op, "{} axes given for {}", perm.size(), describe_tensor("x", x));
  std::array<bool, Shape::kMaxRank> seen{};
  for (int p : perm) {
    check(p >= 0 && p < rank && !seen[size_t(p)], op, "[{}] is not a permutation of {} axes",
          fmt::join(perm, ", "), rank);
    seen[size_t(p)] = true;
  }
  bool shape_ok = out.rank() == rank;
  for (int d = 0; shape_ok && d < rank; ++d) shape_ok = out.dim(d) == x.dim(perm[size_t(d)]);
  check(shape_ok, op, "{} is not {} permuted by [{}]", describe_tensor("out", out), describe_tensor("x", x),
        fmt::join(perm, ", "));
  if (x.numel() == 0) return;

  // Input stride (in elements) of each output axis.
  std::array<int64_t, Shape::kMaxRank> in_strides{}, stride_of_out_axis{};
  in_strides[size_t(rank - 1)] = 1;
  for (int d = rank - 2; d >= 0; --d) in_strides[size_t(d)] = in_strides[size_t(d + 1)] * x.dim(d + 1);
  for (int d = 0; d < rank; ++d) stride_of_out_axis[size_t(d)] = in_strides[size_t(perm[size_t(d)])];

  const size_t size = dtype_size(x.dtype());
  const int64_t row_length = out.dim(rank - 1);
  const int64_t inner_stride = stride_of_out_axis[size_t(rank - 1)];
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  // One output row (last axis) at a time: its source is a strided run, contiguous when the last axis stays.
  parallel_for(out.numel() / row_length, row_length, [&](int64_t row) {
    int64_t offset = 0, rest = row;
    for (int d = rank - 2; d >= 0; --d) {
      offset += (rest % out.dim(d)) * stride_of_out_axis[size_t(d)];
      rest /= out.dim(d);
    }
    uint8_t* out_row = dst + size_t(row * row_length) * size;
    if (inner_stride == 1) std::memcpy(out_row, src + size_t(offset) * size, size_t(row_length) * size);
    else gather_elements(size, src + size_t(offset) * size, inner_stride, out_row, row_length);
  });
}

void patchify(const Tensor& img, int patch, Tensor& out) {
  constexpr std::string_view op = "patchify";
  check_tensor(op, "img", img, kAnyDType);
  check_tensor(op, "out", out, {img.dtype()});
  check_rank(op, "img", img, 4);
  check(patch > 0, op, "patch size {} must be positive", patch);
  const int64_t batch = img.dim(0), channels = img.dim(1), height = img.dim(2), width = img.dim(3), p = patch;
  check(height % p == 0 && width % p == 0, op, "{} is not a multiple of the patch size {}",
        describe_tensor("img", img), p);
  const int64_t grid_h = height / p, grid_w = width / p, patch_size = channels * p * p;
  check(out.rank() == 3 && out.dim(0) == batch && out.dim(1) == grid_h * grid_w && out.dim(2) == patch_size, op,
        "{} must be [{}, {}, {}] for {} with patch {}", describe_tensor("out", out), batch, grid_h * grid_w,
        patch_size, describe_tensor("img", img), p);

  const size_t size = dtype_size(img.dtype());
  const auto* src = static_cast<const uint8_t*>(img.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  parallel_for(batch * grid_h * grid_w, patch_size, [&](int64_t index) {
    const int64_t b = index / (grid_h * grid_w), gy = index / grid_w % grid_h, gx = index % grid_w;
    uint8_t* patch_out = dst + size_t(index * patch_size) * size;
    // Channel-major inside the patch: the flattening of a Conv2d weight [O, C, p, p].
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t py = 0; py < p; ++py) {
        const int64_t source = ((b * channels + c) * height + gy * p + py) * width + gx * p;
        std::memcpy(patch_out + size_t((c * p + py) * p) * size, src + size_t(source) * size, size_t(p) * size);
      }
  });
}

}  // namespace vlm::cpu
