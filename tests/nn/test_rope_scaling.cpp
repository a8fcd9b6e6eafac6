// RoPE scaling as transformers' modeling_rope_utils computes inv_freq: llama3 (Llama 3.x, Llama 3.2
// Vision) and linear, against a double-precision port of the same formulas (relative 1e-6: the product is
// f32); the config reader refuses the types it cannot compute exactly, naming the key.
#include <cmath>

#include <catch2/catch.hpp>

#include "vlm/nn/llama.hpp"
#include "vlm/nn/rotary.hpp"

using namespace vlm;

namespace {

std::vector<double> llama3_reference(int64_t dim, double theta, double factor, double low, double high, double old) {
  std::vector<double> out;
  for (int64_t i = 0; i < dim / 2; ++i) {
    const double f = 1.0 / std::pow(theta, double(2 * i) / double(dim));
    const double wavelen = 2.0 * M_PI / f;
    double scaled = wavelen > old / low ? f / factor : f;
    if (!(wavelen < old / high) && !(wavelen > old / low)) {
      const double smooth = (old / wavelen - low) / (high - low);
      scaled = (1 - smooth) * scaled / factor + smooth * scaled;
    }
    out.push_back(scaled);
  }
  return out;
}

}  // namespace

TEST_CASE("llama3 and linear RoPE scaling give transformers' inverse frequencies", "[nn][rotary]") {
  const auto view = ConfigView::parse(
      R"({"rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
          "original_max_position_embeddings": 8192, "rope_type": "llama3"}})",
      "config.json");
  const RopeScaling s = RopeScaling::from(view.child("rope_scaling"));
  CHECK(s.type == "llama3");
  for (const int64_t dim : {int64_t(16), int64_t(128)}) {
    const auto got = rope_inverse_frequencies(dim, 500000.0, s);
    const auto want = llama3_reference(dim, 500000.0, 8.0, 1.0, 4.0, 8192.0);
    REQUIRE(got.size() == want.size());
    bool some_scaled = false, some_kept = false;
    const auto plain = rope_inverse_frequencies(dim, 500000.0);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("dim " << dim << " frequency " << i);
      CHECK(std::abs(got[i] - want[i]) <= 1e-6 * want[i]);
      some_scaled = some_scaled || got[i] < plain[i];
      some_kept = some_kept || got[i] == plain[i];
    }
    CHECK(some_scaled);  // long wavelengths are stretched ...
    CHECK(some_kept);    // ... short ones are not
  }

  const auto linear = RopeScaling::from(ConfigView::parse(R"({"type": "linear", "factor": 2.0})", "c.json"));
  const auto halved = rope_inverse_frequencies(8, 10000.0, linear), plain = rope_inverse_frequencies(8, 10000.0);
  for (size_t i = 0; i < plain.size(); ++i) CHECK(halved[i] == plain[i] / 2.0f);
  CHECK(RopeScaling::from(ConfigView::parse("{}", "c.json")).type == "default");
}

TEST_CASE("unsupported RoPE scaling is refused by name", "[nn][rotary][errors]") {
  CHECK_THROWS_WITH(RopeScaling::from(ConfigView::parse(R"({"rope_type": "yarn", "factor": 4.0})", "config.json")),
                    Catch::Contains("config.json") && Catch::Contains("'yarn' is not supported"));
  CHECK_THROWS_WITH(RopeScaling::from(ConfigView::parse(R"({"rope_type": "llama3", "factor": 8.0})", "config.json")),
                    Catch::Contains("low_freq_factor"));
  const auto text = ConfigView::parse(R"({"text_config": {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}}})",
                                      "config.json");
  CHECK_THROWS_WITH(LlamaConfig::from(text.child("text_config")), Catch::Contains("text_config.rope_scaling.rope_type"));
}
