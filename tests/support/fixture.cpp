#include "support/fixture.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "vlm/util/error.hpp"

namespace vlm::test {

Fixture::Fixture(const std::filesystem::path& dir) : dir_(dir) {
  std::ifstream in(dir / "reference.json");
  if (!in) fail("{}: no reference.json", dir.string());
  json_ = OrderedJson::parse(in);
  reference_ = SafetensorsFile::open(dir / "reference.safetensors");
}

bool Fixture::has(const std::string& case_name, const std::string& what) const {
  return reference_->find(case_name + "." + what) != nullptr;
}

Tensor Fixture::tensor(const std::string& case_name, const std::string& what) const {
  return reference_->tensor(case_name + "." + what);
}

Difference max_abs_difference(const Tensor& a, const Tensor& b) {
  if (!(a.shape() == b.shape())) fail("max_abs_difference: shapes {} and {} differ", a.shape().str(), b.shape().str());
  Difference d;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.item(i), y = b.item(i);
    const double diff = (std::isnan(x) || std::isnan(y)) ? INFINITY : std::abs(x - y);
    if (diff > d.max_abs || d.worst_index < 0) {
      d.max_abs = std::max(d.max_abs, diff);
      d.worst_index = i;
    }
  }
  return d;
}

Tensor keep_attended_rows(const Tensor& t, const Tensor& mask) {
  Tensor out = t.clone();
  const int64_t rows = mask.numel(), width = t.numel() / rows;
  for (int64_t r = 0; r < rows; ++r)
    if (mask.data<int64_t>()[r] == 0) std::fill_n(out.data<float>() + r * width, width, 0.0f);
  return out;
}

}  // namespace vlm::test
