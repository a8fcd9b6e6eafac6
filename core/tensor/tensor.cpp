#include "vlm/tensor/tensor.hpp"

#include <cstdlib>
#include <new>

#include <fmt/format.h>

#include "vlm/util/error.hpp"

namespace vlm {

std::string device_name(Device d) {
  return d.kind == DeviceKind::CPU ? std::string("cpu") : fmt::format("cuda:{}", d.index);
}

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > size_t(kMaxRank)) fail("tensor rank {} exceeds the maximum of {}", dims.size(), kMaxRank);
  rank_ = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) fail("negative tensor dimension {}", dims[i]);
    dims_[i] = dims[i];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[size_t(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[size_t(i)] != o.dims_[size_t(i)]) return false;
  return true;
}

size_t storage_bytes(const Shape& shape, DType dtype) {
  const auto numel = size_t(shape.numel());
  if (!is_quantized(dtype)) return numel * dtype_size(dtype);
  const size_t k = shape.rank() ? size_t(shape[-1]) : 1;
  const size_t rows = k ? numel / k : 0;
  if (dtype == DType::Q8) return rows * k + rows * sizeof(float);
  const size_t groups = (k + 63) / 64;  // Q4: 32 bytes and one bf16 scale per group of 64
  return rows * groups * (32 + 2);
}

std::string Shape::str() const { return fmt::format("[{}]", fmt::join(dims(), ", ")); }

namespace {
struct AlignedBuffer {
  void* ptr;
  explicit AlignedBuffer(size_t bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    ptr = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    if (rounded && !ptr) throw std::bad_alloc();
    if (ptr) std::memset(ptr, 0, rounded);
  }
  ~AlignedBuffer() { std::free(ptr); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};
}  // namespace

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  auto buffer = std::make_shared<AlignedBuffer>(storage_bytes(shape, dtype));
  Tensor t;
  t.data_ = buffer->ptr;
  t.owner_ = std::shared_ptr<const void>(buffer, buffer->ptr);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.dtype_set_ = true;
  t.device_ = Device::cpu();
  return t;
}

Tensor Tensor::borrow(void* data, const Shape& shape, DType dtype, Device device,
                      std::shared_ptr<const void> keep_alive) {
  Tensor t;
  t.data_ = data;
  t.owner_ = std::move(keep_alive);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.dtype_set_ = true;
  t.device_ = device;
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape.numel() != numel())
    fail("cannot reshape {} ({} elements) to {} ({} elements)", shape_.str(), numel(), shape.str(), shape.numel());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::rows(int64_t start, int64_t count) const {
  if (rank() == 0 || start < 0 || count < 0 || start + count > dim(0))
    fail("rows [{}, {}) out of range for a tensor of shape {}", start, start + count, shape_.str());
  if (is_quantized(dtype_)) fail("rows() of a {} tensor: quantised rows share a scale plane", dtype_name(dtype_));
  Tensor t = *this;
  const int64_t row_elems = dim(0) ? numel() / dim(0) : 0;
  t.data_ = static_cast<uint8_t*>(data_) + size_t(start * row_elems) * dtype_size(dtype_);
  t.shape_[0] = count;
  return t;
}

Tensor Tensor::clone() const {
  if (!is_host()) fail("clone() of a {} tensor: download it first", device_name(device_));
  Tensor t = zeros(shape_, dtype_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

double Tensor::item(int64_t i) const {
  if (!is_host()) fail("item() of a {} tensor: download it first", device_name(device_));
  if (i < 0 || i >= numel()) fail("item({}) out of range for shape {}", i, shape_.str());
  switch (dtype_) {
    case DType::F32: return data<float>()[i];
    case DType::F16: return f16_to_f32(data<uint16_t>()[i]);
    case DType::BF16: return bf16_to_f32(data<uint16_t>()[i]);
    case DType::I32: return data<int32_t>()[i];
    case DType::I64: return double(data<int64_t>()[i]);
    case DType::U8: return data<uint8_t>()[i];
    case DType::Q8: case DType::Q4: break;
  }
  fail("item() of a {} tensor: dequantize it first", dtype_name(dtype_));
  return 0;
}

Tensor Tensor::to(DType dtype) const {
  if (!is_host()) fail("to() of a {} tensor: download it first", device_name(device_));
  if (dtype == dtype_) return clone();
  if (is_quantized(dtype) || is_quantized(dtype_))
    fail("to({}) of a {} tensor: use quantize() / dequantize()", dtype_name(dtype), dtype_name(dtype_));
  Tensor t = zeros(shape_, dtype);
  const int64_t n = numel();
  if (dtype_ == DType::I64 && dtype == DType::I32) {
    for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = int32_t(data<int64_t>()[i]);
    return t;
  }
  for (int64_t i = 0; i < n; ++i) {
    const double v = item(i);
    switch (dtype) {
      case DType::F32: t.data<float>()[i] = float(v); break;
      case DType::F16: t.data<uint16_t>()[i] = f32_to_f16(float(v)); break;
      case DType::BF16: t.data<uint16_t>()[i] = f32_to_bf16(float(v)); break;
      case DType::I32: t.data<int32_t>()[i] = int32_t(v); break;
      case DType::I64: t.data<int64_t>()[i] = int64_t(v); break;
      case DType::U8: t.data<uint8_t>()[i] = uint8_t(v); break;
      case DType::Q8: case DType::Q4: break;  // refused above
    }
  }
  return t;
}

}  // namespace vlm
