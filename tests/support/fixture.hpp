#pragma once
// Reads a golden fixture (../shared/fixtures/<name>): reference.json, reference.safetensors, and inputs,
// and compares tensors with stated tolerances.
#include <filesystem>
#include <map>
#include <set>
#include <memory>
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/model/components.hpp"
#include "vlm/io/safetensors.hpp"

namespace vlm::test {

class Fixture {
 public:
  explicit Fixture(const std::filesystem::path& dir);
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path checkpoint() const { return dir_ / "checkpoint"; }
  std::filesystem::path input(const std::string& name) const { return dir_ / "inputs" / name; }
  const OrderedJson& json() const { return json_; }
  bool has(const std::string& case_name, const std::string& what) const;
  Tensor tensor(const std::string& case_name, const std::string& what) const;  // "<case>.<what>"

 private:
  std::filesystem::path dir_;
  OrderedJson json_;
  std::shared_ptr<const SafetensorsFile> reference_;
};

struct Difference {
  double max_abs = 0;
  int64_t worst_index = -1;
};
// Max |a - b| over all elements (shapes must match; both host tensors of any numeric dtype).
Difference max_abs_difference(const Tensor& a, const Tensor& b);

// A copy of `t` [B, S, ...] or a per-layer stack [layers, B, S, ...] (host f32) with the rows of padded
// positions (mask [B, S] i64 == 0) zeroed: HF's eager attention gives those rows a uniform average over
// padding, which no consumer reads.
Tensor keep_attended_rows(const Tensor& t, const Tensor& mask);

struct CaseTolerances {
  double pixels = 1e-5;       // pixel_values*
  double activations = 1e-4;  // every other float tensor; integer tensors must be identical
  // Per-position outputs compared on attended rows only (see keep_attended_rows).
  std::set<std::string> attended_rows_only = {"last_hidden_state", "logits"};
};

// Compares every tensor reference.json lists for `case_name` with the tensor of the same name in `dump`
// (a run of vlm on that case's inputs), each with its tolerance. A listed tensor that the dump or
// reference.safetensors lacks is a failure, never a skip. Returns how many tensors were compared.
int check_case(const Fixture& fx, const std::string& case_name, const std::map<std::string, Tensor, std::less<>>& dump,
               const CaseTolerances& tolerances = {});
// The same for exactly the tensors named in `only` (a test of one part of a model, e.g. its decoder fed the
// fixture's image features); each must be listed by the fixture and produced by the run.
// The prompts of a case whose messages_<case>.json is one conversation (single) or a list of them (batch),
// row i with one image, image_<case>_<i>.png.
std::vector<Prompt> one_image_prompts(const Fixture& fx, const std::string& case_name);

int check_case_tensors(const Fixture& fx, const std::string& case_name,
                       const std::map<std::string, Tensor, std::less<>>& dump, const std::set<std::string>& only,
                       const CaseTolerances& tolerances = {});

}  // namespace vlm::test

// CHECKs shape equality and max |got - want| <= tol, printing the measured error either way.
#define VLM_CHECK_CLOSE(got, want, tol)                                                                    \
  do {                                                                                                     \
    const ::vlm::Tensor& vlm_got_ = (got);                                                                 \
    const ::vlm::Tensor& vlm_want_ = (want);                                                               \
    REQUIRE(vlm_got_.shape() == vlm_want_.shape());                                                        \
    const auto vlm_diff_ = ::vlm::test::max_abs_difference(vlm_got_, vlm_want_);                           \
    INFO(#got << ": max abs error " << vlm_diff_.max_abs << " at flat index " << vlm_diff_.worst_index     \
              << " (tolerance " << (tol) << ")");                                                          \
    CHECK(vlm_diff_.max_abs <= (tol));                                                                     \
  } while (0)

// Integer tensors: identical values (shape checked).
#define VLM_CHECK_IDENTICAL(got, want) VLM_CHECK_CLOSE(got, want, 0.0)
