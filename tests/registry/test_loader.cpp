// The loader refuses a backend lacking an op the family declares, naming the op, before loading.
#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;

namespace {

// A backend that implements no op (a test double: every call would be a bug, so each throws).
class EmptyBackend final : public Backend {
 public:
  std::string name() const override { return "empty"; }
  Device device() const override { return Device::cpu(); }
  std::string describe() const override { return "empty"; }
  bool supports(Op op, DType) const override { return op == Op::Embedding; }
  void set_threads(int) override {}
  Tensor empty(const Shape& s, DType d) override { return Tensor::zeros(s, d); }
  Tensor zeros(const Shape& s, DType d) override { return Tensor::zeros(s, d); }
  void copy(const Tensor&, Tensor&) override { unexpected(); }
  Tensor upload(const Tensor& t) override { return t; }
  Tensor download(const Tensor& t) override { return t; }
  void synchronize() override {}
  void matmul(const Tensor&, const Tensor&, const Tensor*, Tensor&, bool) override { unexpected(); }
  void attention(const Tensor&, const Tensor&, const Tensor&, Tensor&, const AttentionParams&) override { unexpected(); }
  void rms_norm(const Tensor&, const Tensor&, float, Tensor&) override { unexpected(); }
  void layer_norm(const Tensor&, const Tensor&, const Tensor*, float, Tensor&) override { unexpected(); }
  void activation(Activation, const Tensor&, Tensor&) override { unexpected(); }
  void gated_activation(Activation, const Tensor&, const Tensor&, Tensor&) override { unexpected(); }
  void softmax(const Tensor&, Tensor&) override { unexpected(); }
  void rotary(const Tensor&, const Tensor&, const Tensor&, Tensor&) override { unexpected(); }
  void embedding(const Tensor&, const Tensor&, Tensor&) override { unexpected(); }
  void add(const Tensor&, const Tensor&, Tensor&) override { unexpected(); }
  void mul(const Tensor&, const Tensor&, Tensor&) override { unexpected(); }
  void scale(const Tensor&, float, Tensor&) override { unexpected(); }
  void concat(std::span<const Tensor* const>, int, Tensor&) override { unexpected(); }
  void slice(const Tensor&, int, int64_t, Tensor&) override { unexpected(); }
  void permute(const Tensor&, std::span<const int>, Tensor&) override { unexpected(); }
  void patchify(const Tensor&, int, Tensor&) override { unexpected(); }
  void convert(const Tensor&, Tensor&) override { unexpected(); }

 private:
  [[noreturn]] static void unexpected() { FAIL("an op ran on a backend that was refused"); throw 0; }
};

}  // namespace

TEST_CASE("a backend missing a declared op is refused by name at load", "[registry][loader]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl/checkpoint");
  const auto checkpoint = Checkpoint::open(dir);
  const auto family = registry::create_family(registry::plugin_for_model_type("qwen2_vl"));
  EmptyBackend backend;
  CHECK_THROWS_WITH(registry::check_backend_ops(backend, *family, *checkpoint, DType::F32),
                    Catch::Contains("backend 'empty' does not implement op 'matmul' for f32"));
}
