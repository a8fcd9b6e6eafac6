#include "vlm/registry/loader.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "vlm/registry/backends.hpp"
#include "vlm/util/error.hpp"

namespace vlm::registry {

void check_backend_ops(const Backend& backend, const ModelFamily& family, const Checkpoint& checkpoint,
                       DType weight_dtype) {
  for (Op op : family.required_ops(checkpoint.config())) {
    // Weight-taking ops must support the stored dtype; the rest run on f32 activations.
    const bool takes_weights = op == Op::Matmul || op == Op::Embedding || op == Op::RmsNorm || op == Op::LayerNorm;
    const DType dtype = takes_weights ? weight_dtype : DType::F32;
    if (!backend.supports(op, dtype))
      fail("backend '{}' does not implement op '{}' for {} (needed by {}); try --device with another backend",
           backend.name(), op_name(op), dtype_name(dtype), checkpoint.dir().string());
  }
}

namespace {

void report_quantization(QuantizedWeightCache& cache) {
  const bool written = cache.save();
  const auto stats = cache.stats();
  const std::string name(quantization_name(cache.quantization()));
  if (stats.mapped + stats.computed == 0) {
    spdlog::warn("--quantize {}: nothing to quantise (only a language model's linear layers with K a multiple "
                 "of 64 are); the weights stay as stored", name);
    return;
  }
  const double mib = double(stats.bytes) / (1 << 20);
  if (stats.computed == 0)
    spdlog::info("{}: {} matrices ({:.1f} MiB) mapped from {}", name, stats.mapped, mib, cache.path().string());
  else
    spdlog::info("{}: quantised {} matrices in {:.2f} s ({} from the cache, {:.1f} MiB in all){}", name,
                 stats.computed, stats.seconds, stats.mapped, mib,
                 written ? "; cached in " + cache.path().string() : "");
}

}  // namespace

LoadedModel load_model(const LoadRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded;
  loaded.resolved = resolve_model(request.model);
  spdlog::info("model: {}", loaded.resolved.how);
  loaded.checkpoint = Checkpoint::open(loaded.resolved.dir);
  loaded.family = create_family(*loaded.resolved.plugin);

  BackendOptions backend_options;
  backend_options.threads = request.threads;
  backend_options.memory_budget_bytes = request.memory_budget_bytes;
  loaded.backend = create_backend(request.device, backend_options);
  spdlog::info("device: {} ({})", loaded.backend->name(), loaded.backend->describe());

  // Validation runs before the plugin sees the checkpoint, so every family reports problems the same way.
  const auto unexpected = loaded.checkpoint->validate(loaded.family->expected_tensors(loaded.checkpoint->config()));
  if (!unexpected.empty())
    spdlog::warn("{} tensor(s) in the checkpoint are not used by {} (e.g. '{}')", unexpected.size(),
                 loaded.resolved.plugin->name, unexpected.front());

  DType stored = DType::F32;
  for (const auto* t : loaded.checkpoint->tensors())
    if (is_float(t->dtype)) {
      stored = t->dtype;
      break;
    }
  check_backend_ops(*loaded.backend, *loaded.family, *loaded.checkpoint, request.options.weight_dtype.value_or(stored));

  LoadContext context{loaded.checkpoint, loaded.backend.get(), request.options, nullptr};
  const Quantization quantization = request.options.quantization;
  if (quantization != Quantization::None) {
    const DType dtype = quantized_dtype(quantization);
    if (!loaded.backend->supports(Op::Matmul, dtype))
      fail("backend '{}' has no matmul for {} weights (--quantize {}); use --device cpu or load without --quantize",
           loaded.backend->name(), dtype_name(dtype), quantization_name(quantization));
    context.quantized = std::make_shared<QuantizedWeightCache>(
        *loaded.checkpoint, quantization, request.options.quantized_cache_dir.value_or(default_quantized_cache_dir()));
  }
  loaded.model = loaded.family->load(context);
  if (context.quantized) report_quantization(*context.quantized);
  loaded.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return loaded;
}

}  // namespace vlm::registry
