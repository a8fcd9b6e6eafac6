#include "checks.hpp"

#include <algorithm>

namespace vlm::cpu {

void check_tensor(std::string_view op, std::string_view name, const Tensor& t,
                  std::initializer_list<DType> dtypes) {
  check(t.defined(), op, "{} is an undefined tensor", name);
  if (!t.is_host()) fail("{}: {} is on {}, the cpu backend needs host tensors", op, name, device_name(t.device()));
  check(t.numel() == 0 || t.raw() != nullptr, op, "{} has no storage", describe_tensor(name, t));
  const bool dtype_ok = std::find(dtypes.begin(), dtypes.end(), t.dtype()) != dtypes.end();
  if (!dtype_ok) {
    std::string allowed;
    for (DType d : dtypes) allowed += fmt::format("{}{}", allowed.empty() ? "" : "/", dtype_name(d));
    fail("{}: {} has an unsupported dtype (expected {})", op, describe_tensor(name, t), allowed);
  }
}

void check_rank(std::string_view op, std::string_view name, const Tensor& t, int rank) {
  check(t.rank() == rank, op, "{} must have rank {}", describe_tensor(name, t), rank);
}

void check_same_shape(std::string_view op, std::string_view a_name, const Tensor& a, std::string_view b_name,
                      const Tensor& b) {
  check(a.shape() == b.shape(), op, "{} and {} must have the same shape", describe_tensor(a_name, a),
        describe_tensor(b_name, b));
}

void check_channel_weight(std::string_view op, std::string_view name, const Tensor& w, int64_t channels) {
  check_tensor(op, name, w, kFloatDTypes);
  check(w.rank() == 1 && w.dim(0) == channels, op, "{} must have shape [{}]", describe_tensor(name, w),
        channels);
}

int normalise_axis(std::string_view op, int axis, int rank) {
  const int normalised = axis < 0 ? axis + rank : axis;
  check(normalised >= 0 && normalised < rank, op, "axis {} out of range for rank {}", axis, rank);
  return normalised;
}

}  // namespace vlm::cpu
