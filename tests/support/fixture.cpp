#include "support/fixture.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "vlm/image/load.hpp"
#include <fstream>

#include <catch2/catch.hpp>

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
  // A stack of per-layer states [layers, B, S, ...] is masked layer by layer.
  const bool stacked = t.rank() == mask.rank() + 2 && t.dim(1) == mask.dim(0) && t.dim(2) == mask.dim(1);
  const int64_t blocks = stacked ? t.dim(0) : 1, rows = mask.numel(), width = t.numel() / blocks / rows;
  for (int64_t k = 0; k < blocks; ++k)
    for (int64_t r = 0; r < rows; ++r)
      if (mask.data<int64_t>()[r] == 0) std::fill_n(out.data<float>() + (k * rows + r) * width, width, 0.0f);
  return out;
}

namespace {

int compare_tensors(const Fixture& fx, const std::string& case_name,
                    const std::map<std::string, Tensor, std::less<>>& dump, const std::set<std::string>* only,
                    const CaseTolerances& tolerances) {
  const std::string prefix = case_name + ".";
  const auto& listed = fx.json().at("tensors");
  if (only)
    for (const auto& what : *only)
      if (!listed.contains(prefix + what)) FAIL_CHECK("reference.json lists no " << prefix << what);
  int compared = 0;
  for (const auto& [key, info] : listed.items()) {
    if (!key.starts_with(prefix)) continue;
    const std::string what = key.substr(prefix.size());
    if (only && !only->count(what)) continue;
    INFO(fx.dir().filename().string() << " case " << case_name << ", tensor " << what);
    if (!fx.has(case_name, what)) {
      FAIL_CHECK("reference.json lists " << key << " but reference.safetensors does not hold it");
      continue;
    }
    const auto mine = dump.find(what);
    if (mine == dump.end()) {
      FAIL_CHECK("vlm's run did not produce " << what << " (the fixture expects it)");
      continue;
    }
    const Tensor want = fx.tensor(case_name, what);
    if (!(mine->second.shape() == want.shape())) {
      FAIL_CHECK("shape " << mine->second.shape().str() << " != fixture's " << want.shape().str());
      continue;
    }
    const bool exact = !is_float(want.dtype()) || !is_float(mine->second.dtype());
    const double tolerance = exact ? 0.0 : what.starts_with("pixel_values") ? tolerances.pixels : tolerances.activations;
    Difference diff;
    if (tolerances.attended_rows_only.count(what)) {
      const Tensor mask = fx.tensor(case_name, "attention_mask").to(DType::I64);
      diff = max_abs_difference(keep_attended_rows(mine->second.to(DType::F32), mask), keep_attended_rows(want.to(DType::F32), mask));
    } else {
      diff = max_abs_difference(mine->second, want);
    }
    INFO("max abs error " << diff.max_abs << " at flat index " << diff.worst_index << " (tolerance " << tolerance << ")");
    CHECK(diff.max_abs <= tolerance);
    ++compared;
  }
  CHECK(compared > 0);
  return compared;
}

}  // namespace

std::vector<Prompt> one_image_prompts(const Fixture& fx, const std::string& name) {
  std::ifstream in(fx.input("messages_" + name + ".json"));
  const OrderedJson messages = OrderedJson::parse(in);
  const bool batched = messages.is_array() && !messages.empty() && messages[0].is_array();
  std::vector<Prompt> prompts;
  for (size_t i = 0; i < (batched ? messages.size() : 1); ++i) {
    Prompt p;
    p.messages = batched ? messages[i] : messages;
    p.images.push_back(load_image(fx.input("image_" + name + "_" + std::to_string(i) + ".png")));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

int check_case(const Fixture& fx, const std::string& case_name, const std::map<std::string, Tensor, std::less<>>& dump,
               const CaseTolerances& tolerances) {
  return compare_tensors(fx, case_name, dump, nullptr, tolerances);
}

int check_case_tensors(const Fixture& fx, const std::string& case_name,
                       const std::map<std::string, Tensor, std::less<>>& dump, const std::set<std::string>& only,
                       const CaseTolerances& tolerances) {
  return compare_tensors(fx, case_name, dump, &only, tolerances);
}

}  // namespace vlm::test
