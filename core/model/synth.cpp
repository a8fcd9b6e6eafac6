#include "vlm/model/synth.hpp"

#include "vlm/io/atomic_file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "vlm/io/safetensors.hpp"
#include "vlm/util/error.hpp"

namespace vlm {
namespace fs = std::filesystem;

namespace {

// splitmix64: tiny, fast, and good enough for random weights.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

Init resolve_auto(const TensorSpec& spec) {
  if (spec.init != Init::Auto) return spec.init;
  const auto& n = spec.name;
  const bool is_bias = n.ends_with(".bias");
  const bool is_norm = n.find("norm") != std::string::npos || n.find("ln_") != std::string::npos ||
                       n.find(".ln") != std::string::npos || n.find("layernorm") != std::string::npos;
  if (is_norm && !is_bias) return Init::Norm;
  if (is_bias || spec.shape.rank() < 2) return Init::Bias;
  return Init::FanIn;
}

void write_json(const fs::path& path, const Json& json) { write_text_atomically(path, json.dump(2) + "\n"); }

}  // namespace

int64_t SynthRecipe::special_id(std::string_view token) const {
  for (size_t i = 0; i < special_tokens.size(); ++i)
    if (special_tokens[i] == token) return synthetic_special_token_id(merges, i, leading_special_tokens);
  fail("synthetic checkpoint: '{}' is not among the recipe's special tokens", token);
}

int64_t SynthRecipe::padded_vocab() const {
  return padded_vocab_size(synthetic_tokenizer_size(merges, special_tokens.size()));
}

void fill_random(Tensor& t, Init init, const std::string& name, uint64_t seed) {
  if (!t.is_host()) fail("fill_random: tensor '{}' is not on the host", name);
  SplitMix64 rng{seed ^ fnv1a(name)};
  const int64_t n = t.numel();
  double mean = 0.0, stddev = 0.0;
  switch (init) {
    case Init::FanIn: {
      const int64_t fan_in = t.rank() > 1 ? n / t.dim(0) : n;
      stddev = 1.0 / std::sqrt(double(std::max<int64_t>(fan_in, 1)));
      break;
    }
    case Init::Norm: mean = 1.0; stddev = 0.1; break;
    case Init::Bias: stddev = 0.1; break;
    case Init::Gate: stddev = 0.5; break;
    case Init::Zeros: break;
    case Init::Ones: mean = 1.0; break;
    case Init::Auto: fail("fill_random: Init::Auto must be resolved first ('{}')", name);
  }
  auto value = [&]() -> float {
    if (stddev == 0.0) return float(mean);
    // Box-Muller; one normal per draw keeps values independent of tensor layout.
    const double u1 = std::max(rng.uniform(), 1e-300), u2 = rng.uniform();
    return float(mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  };
  for (int64_t i = 0; i < n; ++i) {
    const float v = value();
    switch (t.dtype()) {
      case DType::F32: t.data<float>()[i] = v; break;
      case DType::BF16: t.data<uint16_t>()[i] = f32_to_bf16(v); break;
      case DType::F16: t.data<uint16_t>()[i] = f32_to_f16(v); break;
      default: fail("fill_random: tensor '{}' has non-float dtype {}", name, dtype_name(t.dtype()));
    }
  }
}

void write_synthetic_checkpoint(const ModelFamily& family, const SynthRecipe& recipe, const fs::path& dir,
                                uint64_t seed, bool overwrite) {
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_empty(dir, ec) && !overwrite)
    fail("{}: exists and is not empty (pass --force to overwrite)", dir.string());
  fs::create_directories(dir);

  Json config = recipe.config;
  config["torch_dtype"] = recipe.dtype == DType::BF16 ? "bfloat16" : recipe.dtype == DType::F16 ? "float16" : "float32";
  const ConfigView view = ConfigView::parse(config.dump(), "config.json");
  const auto specs = family.expected_tensors(view);

  std::vector<SafetensorsEntry> entries;
  std::vector<const TensorSpec*> written;
  for (const auto& spec : specs) {
    if (spec.optional) continue;  // e.g. lm_head when embeddings are tied: HF does not save it
    entries.push_back({spec.name, recipe.dtype, spec.shape});
    written.push_back(&spec);
  }
  write_safetensors_streamed(
      dir / "model.safetensors", entries,
      [&](size_t i) {
        Tensor t = Tensor::zeros(written[i]->shape, recipe.dtype);
        fill_random(t, resolve_auto(*written[i]), written[i]->name, seed);
        return t;
      },
      {{"format", "pt"}});

  write_json(dir / "config.json", config);
  Json generation = recipe.generation_config;
  generation["transformers_version"] = "4.47.1";
  write_json(dir / "generation_config.json", generation);
  if (!recipe.preprocessor_config.is_null()) write_json(dir / "preprocessor_config.json", recipe.preprocessor_config);
  if (!recipe.processor_config.is_null()) write_json(dir / "processor_config.json", recipe.processor_config);
  if (!recipe.chat_template.empty()) write_json(dir / "chat_template.json", {{"chat_template", recipe.chat_template}});

  Json tokenizer = make_synthetic_tokenizer_json(recipe.merges, recipe.special_tokens, recipe.leading_special_tokens);
  if (!recipe.post_processor.is_null()) tokenizer["post_processor"] = recipe.post_processor;
  auto lstrip = [&](const Json& content) {
    return std::find(recipe.lstrip_tokens.begin(), recipe.lstrip_tokens.end(), content.get<std::string>()) !=
           recipe.lstrip_tokens.end();
  };
  for (auto& token : tokenizer["added_tokens"]) token["lstrip"] = lstrip(token["content"]);
  write_json(dir / "tokenizer.json", tokenizer);
  Json tokenizer_config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                           {"clean_up_tokenization_spaces", false},
                           {"model_max_length", 32768}};
  Json decoder = Json::object();
  for (const auto& token : tokenizer["added_tokens"])
    decoder[std::to_string(token["id"].get<int64_t>())] = {{"content", token["content"]}, {"lstrip", lstrip(token["content"])},
                                                           {"normalized", false}, {"rstrip", false},
                                                           {"single_word", false}, {"special", true}};
  tokenizer_config["added_tokens_decoder"] = decoder;
  for (auto it = recipe.tokenizer_config.begin(); it != recipe.tokenizer_config.end(); ++it)
    tokenizer_config[it.key()] = it.value();
  write_json(dir / "tokenizer_config.json", tokenizer_config);
  write_json(dir / "vlm_synthetic.json",
             {{"note", "random weights written by `vlm synth`: outputs are meaningless, use it for tests and benchmarks"},
              {"seed", seed}});
}

}  // namespace vlm
