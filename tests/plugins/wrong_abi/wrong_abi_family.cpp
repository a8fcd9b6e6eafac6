// A plugin deliberately built for another SDK ABI version: the loader must refuse it, naming both
// versions, without ever calling its factory.
#include <cstdlib>

#include "vlm/sdk.hpp"

namespace {
class NeverCreated final : public vlm::ModelFamily {
 public:
  NeverCreated() { std::abort(); }  // if the loader ever instantiates it, the test process dies loudly
  std::vector<vlm::TensorSpec> expected_tensors(const vlm::ConfigView&) const override { return {}; }
  std::vector<vlm::Op> required_ops(const vlm::ConfigView&) const override { return {}; }
  std::unique_ptr<vlm::Model> load(const vlm::LoadContext&) const override { return nullptr; }
};
}  // namespace

#undef VLM_SDK_ABI_VERSION
#define VLM_SDK_ABI_VERSION 999u
VLM_DEFINE_MODEL_PLUGIN(NeverCreated, "wrong_abi", "0.0.1", "built for SDK ABI 999", "wrong_abi_type")
