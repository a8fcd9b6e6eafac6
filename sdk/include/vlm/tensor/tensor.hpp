#pragma once
// A dense, contiguous, row-major tensor. Storage is shared: either owned (an allocation) or borrowed
// (a memory-mapped weight, kept alive by the mapping's owner), never copied implicitly.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

#include "vlm/tensor/dtype.hpp"

namespace vlm {

enum class DeviceKind : uint8_t { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;
  bool operator==(const Device&) const = default;
  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {DeviceKind::CUDA, i}; }
};
std::string device_name(Device d);

class Shape {
 public:
  static constexpr int kMaxRank = 8;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);
  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[size_t(i < 0 ? i + rank_ : i)]; }
  int64_t& operator[](int i) { return dims_[size_t(i < 0 ? i + rank_ : i)]; }
  int64_t numel() const;
  std::span<const int64_t> dims() const { return {dims_.data(), size_t(rank_)}; }
  bool operator==(const Shape& o) const;
  std::string str() const;  // "[2, 3, 4]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Bytes a tensor of this shape and dtype occupies: numel x dtype_size, or for the quantised dtypes their
// values plus scales (vlm/tensor/quantized.hpp).
size_t storage_bytes(const Shape& shape, DType dtype);

class Tensor {
 public:
  Tensor() = default;

  // Owning host tensor, 64-byte aligned, zero-filled.
  static Tensor zeros(const Shape& shape, DType dtype);
  // A view of memory owned by someone else; `keep_alive` holds that owner for as long as the view lives.
  static Tensor borrow(void* data, const Shape& shape, DType dtype, Device device,
                       std::shared_ptr<const void> keep_alive);
  // Host tensor holding a copy of `values` (convenience for tests and small metadata).
  template <typename T>
  static Tensor from(std::span<const T> values, const Shape& shape);

  bool defined() const { return dtype_set_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  size_t nbytes() const { return storage_bytes(shape_, dtype_); }
  bool is_host() const { return device_.kind == DeviceKind::CPU; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }
  template <typename T> std::span<T> span() { return {data<T>(), size_t(numel())}; }
  template <typename T> std::span<const T> span() const { return {data<T>(), size_t(numel())}; }

  // Same storage, new shape (same element count).
  Tensor reshape(const Shape& shape) const;
  // Rows [start, start+count) along dimension 0: contiguous, so a view (not of a quantised tensor).
  Tensor rows(int64_t start, int64_t count) const;
  // Deep copy into a new host tensor (from a host tensor).
  Tensor clone() const;
  // Host copy converted to `dtype` (host tensors only; float<->float and int<->int/float).
  Tensor to(DType dtype) const;
  // Element as double (host tensors; for tests, dumps and small metadata).
  double item(int64_t flat_index) const;

  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  std::shared_ptr<const void> owner_;
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::F32;
  bool dtype_set_ = false;
  Device device_;
};

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }

template <typename T>
Tensor Tensor::from(std::span<const T> values, const Shape& shape) {
  Tensor t = zeros(shape, dtype_of<T>());
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

}  // namespace vlm
