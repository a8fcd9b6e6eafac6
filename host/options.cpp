#include "options.hpp"

#include <spdlog/spdlog.h>

#include "vlm/tensor/dtype.hpp"
#include "vlm/tensor/quantized.hpp"

namespace vlm::host {

po::typed_value<double>* positive_value(std::string option) {
  return checked_value<double>(std::move(option), "greater than 0", [](double v) { return v > 0; });
}

void add_model_options(po::options_description& options, bool with_model) {
  if (with_model)
    options.add_options()("model,m", po::value<std::string>()->required(),
                          "named model, checkpoint directory or Hugging Face repo id");
  options.add_options()
      ("device,d", po::value<std::string>()->default_value("auto"), "auto | cpu | cuda")
      ("threads,t", value_between<int>("threads", 0, 4096)->default_value(0), "CPU threads (0 = all cores)")
      ("dtype", po::value<std::string>()->default_value("auto"),
       "weights as used for compute: auto (as stored: bf16 weights give bf16 matmuls with f32 accumulation), "
       "f32 (every float weight widened to f32, as Hugging Face loads by default: for parity checks; doubles "
       "the memory of a bf16 checkpoint) or bf16 (bf16 matmuls even for an f32 checkpoint: faster, half the "
       "memory)")
      ("quantize", po::value<std::string>()->default_value("none"),
       "none | int8 | int4: store the language model's matrices quantised (int8 per output channel; int4 in "
       "groups of 64 with bf16 scales); decode reads 2x / ~3.8x fewer bytes. Computed once per checkpoint and "
       "cached (--quantize-cache)")
      ("quantize-cache", po::value<std::string>(),
       "folder for quantised weights (default $VLM_CACHE_DIR/quantized, else ~/.cache/vlm/quantized), or "
       "'none' to quantise in memory at every load")
      ("kv-dtype", po::value<std::string>()->default_value("f32"),
       "KV cache: f32, or bf16 (half the memory per token of context; keys and values rounded when stored)")
      ("memory-budget", po::value<std::string>()->default_value("auto"),
       "GiB of working memory (activations, KV caches; not the mapped weights) the backend may hold: a "
       "request that would need more is refused before allocating. auto = physical memory less an eighth on "
       "the CPU; on CUDA the device's memory is the limit; 0 = no limit");
}

size_t memory_budget_option(const po::variables_map& vm) {
  const std::string text = vm.count("memory-budget") ? vm["memory-budget"].as<std::string>() : "auto";
  if (text == "auto") return kDefaultMemoryBudget;
  double gib = -1;
  size_t used = 0;
  try {
    gib = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(gib >= 0) || gib > 1e6)
    throw po::error(fmt::format("--memory-budget must be auto, 0 or a number of GiB (e.g. 8 or 0.5), got '{}'", text));
  return static_cast<size_t>(gib * double(size_t(1) << 30));
}

DType kv_dtype_option(const po::variables_map& vm) {
  const std::string name = vm.count("kv-dtype") ? vm["kv-dtype"].as<std::string>() : "f32";
  if (name == "f32" || name == "float32") return DType::F32;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  throw po::error(fmt::format("--kv-dtype must be f32 or bf16, got '{}'", name));
}

std::optional<DType> dtype_option(const po::variables_map& vm) {
  const std::string name = vm.count("dtype") ? vm["dtype"].as<std::string>() : "auto";
  if (name == "auto") return std::nullopt;
  if (name == "f32" || name == "float32") return DType::F32;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  throw po::error(fmt::format("--dtype must be auto, f32 or bf16, got '{}'", name));
}

std::string image_cache_key(const registry::LoadedModel& loaded, const registry::LoadRequest& request) {
  const auto dtype = request.options.weight_dtype;
  return fmt::format("{}|{}|{}", loaded.resolved.dir.string(), dtype ? dtype_name(*dtype) : "stored",
                     request.options.processor_overrides.dump());
}

void add_processor_options(po::options_description& options) {
  options.add_options()
      ("min-pixels", value_at_least<int64_t>("min-pixels", 1), "image processor: fewest pixels an image is resized to")
      ("max-pixels", value_at_least<int64_t>("max-pixels", 1), "image processor: most pixels an image is resized to")
      ("image-splitting", po::value<std::string>(),
       "image processor: on | off, split each image into four crops plus itself (Idefics2's do_image_splitting)");
}

registry::LoadRequest load_request(const po::variables_map& vm) {
  registry::LoadRequest request;
  request.model = vm["model"].as<std::string>();
  request.device = vm["device"].as<std::string>();
  request.threads = vm["threads"].as<int>();
  request.memory_budget_bytes = memory_budget_option(vm);
  request.options.weight_dtype = dtype_option(vm);
  const std::string quantize = vm.count("quantize") ? vm["quantize"].as<std::string>() : "none";
  const auto quantization = quantization_from_name(quantize);
  if (!quantization) throw po::error("--quantize must be none, int8 or int4, got '" + quantize + "'");
  request.options.quantization = *quantization;
  if (vm.count("quantize-cache")) {
    const std::string dir = vm["quantize-cache"].as<std::string>();
    request.options.quantized_cache_dir = dir == "none" ? std::filesystem::path() : std::filesystem::path(dir);
  }
  kv_dtype_option(vm);  // refused as a usage error before anything loads
  auto& overrides = request.options.processor_overrides;
  if (vm.count("min-pixels")) overrides["min_pixels"] = vm["min-pixels"].as<int64_t>();
  if (vm.count("max-pixels")) overrides["max_pixels"] = vm["max-pixels"].as<int64_t>();
  if (vm.count("image-splitting")) {
    const std::string value = vm["image-splitting"].as<std::string>();
    if (value != "on" && value != "off") throw po::error("--image-splitting must be on or off, got '" + value + "'");
    overrides["do_image_splitting"] = value == "on";
  }
  return request;
}

void add_output_options(po::options_description& options) {
  options.add_options()
      ("json", "print one JSON document")
      ("dump", po::value<std::string>(), "write intermediate tensors (HF names) to DIR/tensors.safetensors");
}

void write_dump(const TensorDump* dump, const po::variables_map& vm) {
  if (dump)
    spdlog::info("dumped {} tensors to {}", dump->tensors().size(), dump->write(vm["dump"].as<std::string>()).string());
}

}  // namespace vlm::host
