#pragma once
// Argument validation shared by the CPU ops. Every failure is a vlm::Error that starts with the op name
// and shows the offending shapes/dtypes, so a bad call from a model is diagnosable from the message alone.
#include <initializer_list>
#include <string_view>

#include "vlm/tensor/tensor.hpp"
#include "vlm/util/error.hpp"

namespace vlm::cpu {

// "name [2, 3] f32" in messages. Formatted only when a message is: check() arguments are evaluated on
// every call, and ops run per token, so describing a tensor must not build a string.
struct TensorLabel {
  std::string_view name;
  const Tensor* tensor;
};
inline TensorLabel describe_tensor(std::string_view name, const Tensor& t) { return {name, &t}; }

// Throws "<op>: <message>" when `ok` is false.
template <typename... Args>
void check(bool ok, std::string_view op, fmt::format_string<Args...> message, Args&&... args) {
  if (!ok) fail("{}: {}", op, fmt::format(message, std::forward<Args>(args)...));
}

// The tensor is defined, on the host and has one of `dtypes`.
void check_tensor(std::string_view op, std::string_view name, const Tensor& t,
                  std::initializer_list<DType> dtypes);
void check_rank(std::string_view op, std::string_view name, const Tensor& t, int rank);
void check_same_shape(std::string_view op, std::string_view a_name, const Tensor& a, std::string_view b_name,
                      const Tensor& b);
// A per-channel weight (norm weight/bias): any float dtype, shape [channels].
void check_channel_weight(std::string_view op, std::string_view name, const Tensor& w, int64_t channels);
// Normalises a possibly negative axis against `rank`.
int normalise_axis(std::string_view op, int axis, int rank);

inline constexpr std::initializer_list<DType> kFloatDTypes = {DType::F32, DType::BF16, DType::F16};
inline constexpr std::initializer_list<DType> kAnyDType = {DType::F32, DType::F16, DType::BF16,
                                                           DType::I32, DType::I64, DType::U8};

}  // namespace vlm::cpu

template <>
struct fmt::formatter<vlm::cpu::TensorLabel> : fmt::formatter<std::string_view> {
  auto format(const vlm::cpu::TensorLabel& label, fmt::format_context& ctx) const {
    const vlm::Tensor& t = *label.tensor;
    if (!t.defined()) return fmt::format_to(ctx.out(), "{} (undefined)", label.name);
    return fmt::format_to(ctx.out(), "{} {} {}", label.name, t.shape().str(), vlm::dtype_name(t.dtype()));
  }
};
