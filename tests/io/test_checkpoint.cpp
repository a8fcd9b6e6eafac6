// Checkpoint directories: single and sharded weights, validation against declared tensors.
#include <fstream>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/tensor_spec.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {
Tensor filled(const Shape& shape, float v) {
  Tensor t = Tensor::zeros(shape, DType::F32);
  for (auto& x : t.span<float>()) x = v;
  return t;
}
}  // namespace

TEST_CASE("sharded checkpoints load through model.safetensors.index.json", "[io][checkpoint]") {
  const auto dir = test::temp_dir("sharded");
  std::ofstream(dir / "config.json") << R"({"model_type": "x"})";
  write_safetensors(dir / "model-00001-of-00002.safetensors", {{"a.weight", filled({2, 2}, 1)}});
  write_safetensors(dir / "model-00002-of-00002.safetensors", {{"b.weight", filled({3}, 2)}});
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                           "b.weight": "model-00002-of-00002.safetensors"}})";
  const auto ckpt = Checkpoint::open(dir);
  CHECK(ckpt->model_type() == "x");
  CHECK(ckpt->tensors().size() == 2);
  CHECK(ckpt->tensor("b.weight").item(2) == 2.0);
  CHECK(ckpt->file_of("a.weight") == "model-00001-of-00002.safetensors");
  CHECK_THROWS_WITH(ckpt->tensor("a.weight", Shape{4}), Catch::Contains("tensor 'a.weight': shape [2, 2], expected [4]"));
  CHECK_THROWS_WITH(ckpt->tensor("c.weight"), Catch::Contains("missing tensor 'c.weight'"));
  CHECK(ckpt->generation_config().json().empty());  // absent file: empty view

  SECTION("a shard listed but missing") {
    fs::remove(dir / "model-00002-of-00002.safetensors");
    CHECK_THROWS_WITH(Checkpoint::open(dir), Catch::Contains("model-00002-of-00002.safetensors is listed but missing"));
  }
  SECTION("the index places a tensor in the wrong shard") {
    std::ofstream(dir / "model.safetensors.index.json", std::ios::trunc)
        << R"({"weight_map": {"a.weight": "model-00002-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}})";
    CHECK_THROWS_WITH(Checkpoint::open(dir), Catch::Contains("tensor 'a.weight'"));
  }
  SECTION("a weight map escaping the folder") {
    std::ofstream(dir / "model.safetensors.index.json", std::ios::trunc) << R"({"weight_map": {"a.weight": "../x.safetensors"}})";
    CHECK_THROWS_WITH(Checkpoint::open(dir), Catch::Contains("outside the checkpoint"));
  }
}

TEST_CASE("checkpoint problems are reported together", "[io][checkpoint]") {
  const auto dir = test::temp_dir("validate");
  std::ofstream(dir / "config.json") << R"({"model_type": "x"})";
  write_safetensors(dir / "model.safetensors",
                    {{"a.weight", filled({2, 3}, 1)}, {"extra", filled({1}, 0)}, {"n.weight", filled({4}, 1)}});
  const auto ckpt = Checkpoint::open(dir);

  std::vector<TensorSpec> ok;
  add_linear(ok, "a", 3, 2, false);
  add_norm(ok, "n", 4, false);
  CHECK(ckpt->validate(ok) == std::vector<std::string>{"extra"});

  std::vector<TensorSpec> bad;
  add_linear(bad, "a", 2, 3, true);       // wrong shape + missing bias
  add_norm(bad, "n", 4, false);
  bad.push_back({"lm_head.weight", Shape{4, 4}, /*optional=*/true});
  try {
    ckpt->validate(bad);
    FAIL("validation should fail");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("2 problems"));
    CHECK_THAT(message, Catch::Contains("tensor 'a.weight': shape [2, 3], expected [3, 2]"));
    CHECK_THAT(message, Catch::Contains("missing tensor 'a.bias'"));
    CHECK_THAT(message, Catch::Contains("unexpected"));
    CHECK_THAT(message, !Catch::Contains("lm_head"));
  }
}

TEST_CASE("directories that are not checkpoints are explained", "[io][checkpoint]") {
  const auto dir = test::temp_dir("notckpt");
  CHECK_THROWS_WITH(Checkpoint::open(dir / "absent"), Catch::Contains("not a checkpoint directory"));
  CHECK_THROWS_WITH(Checkpoint::open(dir), Catch::Contains("no config.json"));
  std::ofstream(dir / "config.json") << R"({"model_type": "x"})";
  std::ofstream(dir / "pytorch_model.bin") << "pickle";
  CHECK_THROWS_WITH(Checkpoint::open(dir), Catch::Contains("only PyTorch .bin weights"));
}
