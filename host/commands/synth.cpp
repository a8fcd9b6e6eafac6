// vlm synth --family F --size S --out DIR: a random-weight checkpoint in exact Hugging Face layout.
#include <chrono>

#include <fmt/format.h>

#include "../command.hpp"
#include "vlm/model/synth.hpp"
#include "vlm/registry/plugins.hpp"

namespace vlm::host {

int synth_command(const std::vector<std::string>& args) {
  po::options_description options("vlm synth");
  options.add_options()
      ("family,f", po::value<std::string>()->required(), "plugin name or model_type, e.g. qwen2_vl")
      ("size,s", po::value<std::string>()->default_value("tiny"), "named size: tiny for tests, full sizes for benchmarks")
      ("out,o", po::value<std::string>()->required(), "checkpoint directory to write")
      ("seed", po::value<uint64_t>()->default_value(0), "random seed")
      ("dtype", po::value<std::string>(), "stored weight dtype: f32, bf16 or f16 (default: the size's own)")
      ("force", "overwrite a non-empty output directory");
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm synth --family FAMILY [--size SIZE] --out DIR\n\n"
                     "Writes config.json, model.safetensors (random weights), tokenizer files, preprocessor "
                     "config and chat template. The weights are random: outputs are meaningless.",
                     options, {}, vm))
    return 0;

  const auto& plugin = registry::plugin_named(vm["family"].as<std::string>());
  const auto family = registry::create_family(plugin);
  const std::string size = vm["size"].as<std::string>();
  const auto sizes = family->synth_sizes();
  if (std::find(sizes.begin(), sizes.end(), size) == sizes.end())
    fail("family {} has no synthetic size '{}' (sizes: {})", plugin.name, size,
         sizes.empty() ? "none" : fmt::format("{}", fmt::join(sizes, ", ")));
  SynthRecipe recipe = family->synth_recipe(size);
  if (vm.count("dtype")) {
    const auto dtype = dtype_from_name(vm["dtype"].as<std::string>());
    if (!dtype || !is_float(*dtype)) fail("--dtype must be f32, bf16 or f16");
    recipe.dtype = *dtype;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string out = vm["out"].as<std::string>();
  write_synthetic_checkpoint(*family, recipe, out, vm["seed"].as<uint64_t>(), vm.count("force") != 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("wrote a random {} '{}' checkpoint ({}) to {} in {:.1f} s\n", plugin.name, size, dtype_name(recipe.dtype),
             out, seconds);
  return 0;
}

}  // namespace vlm::host
