// vlm info MODEL: how a model resolves, what its config says, and what its checkpoint holds.
#include <map>

#include <fmt/format.h>

#include "../command.hpp"
#include "../options.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/registry/models.hpp"
#include "vlm/registry/plugins.hpp"

namespace vlm::host {

int info_command(const std::vector<std::string>& args) {
  po::options_description options("vlm info");
  options.add_options()("model,m", po::value<std::string>()->required(),
                        "named model, checkpoint directory or Hugging Face repo id")(
      "dtype", po::value<std::string>()->default_value("auto"),
      "also report the weight memory `vlm run --dtype` would use: auto (as stored, memory-mapped), f32 or bf16");
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm info MODEL", options, positional, vm)) return 0;

  const auto convert_to = dtype_option(vm);
  const auto resolved = registry::resolve_model(vm["model"].as<std::string>());
  fmt::print("model:      {}\n", resolved.how);
  fmt::print("model_type: {}\n", resolved.model_type);
  fmt::print("plugin:     {} {} ({})\n", resolved.plugin->name, resolved.plugin->version,
             resolved.plugin->library.string());

  const auto checkpoint = Checkpoint::open(resolved.dir);
  const auto family = registry::create_family(*resolved.plugin);
  const std::string summary = family->summarize(checkpoint->config());
  if (!summary.empty()) fmt::print("config:     {}\n", summary);

  std::map<std::string, std::pair<int64_t, uint64_t>> by_dtype;  // dtype -> (parameters, bytes)
  int64_t parameters = 0;
  uint64_t loaded_bytes = 0;  // with --dtype: float weights converted, the rest as stored
  for (const auto* t : checkpoint->tensors()) {
    loaded_bytes += convert_to && is_float(t->dtype) ? uint64_t(t->shape.numel()) * dtype_size(*convert_to) : t->nbytes;
    auto& [count, bytes] = by_dtype[std::string(dtype_name(t->dtype))];
    count += t->shape.numel();
    bytes += t->nbytes;
    parameters += t->shape.numel();
  }
  const std::string count = parameters >= 1'000'000'000 ? fmt::format("{:.2f} B", double(parameters) / 1e9)
                            : fmt::format("{:.2f} M", double(parameters) / 1e6);
  fmt::print("weights:    {} tensors in {} file(s), {} parameters\n", checkpoint->tensors().size(),
             checkpoint->files().size(), count);
  for (const auto& [dtype, stats] : by_dtype)
    fmt::print("            {:<5} {:>14} parameters  {:>10.1f} MiB\n", dtype, stats.first, double(stats.second) / 1048576.0);
  if (convert_to)
    fmt::print("--dtype {}: {:.1f} MiB of weights in memory (float weights converted at load: copies, not mappings)\n",
               dtype_name(*convert_to), double(loaded_bytes) / 1048576.0);

  try {
    const auto unexpected = checkpoint->validate(family->expected_tensors(checkpoint->config()));
    fmt::print("validation: every expected tensor present with the right shape");
    if (!unexpected.empty()) fmt::print(" ({} unexpected tensor(s) ignored, e.g. '{}')", unexpected.size(), unexpected.front());
    fmt::print("\n");
  } catch (const Error& e) {
    fmt::print("validation: FAILED\n{}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace vlm::host
