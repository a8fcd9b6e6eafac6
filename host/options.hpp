#pragma once
// Command-line pieces several subcommands share: numeric options checked against their allowed range,
// and the options that load a model (--model, --device, --threads, --dtype), parsed in one place so that
// `run`, `bench` and `info` mean the same thing by them.
#include <limits>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "command.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"

namespace vlm::host {

// A po::value<T> whose notifier refuses values outside what `ok` accepts, naming the option and the
// allowed range ("--threads must be between 0 and 4096, got -1"). NaN fails every comparison, so it is
// refused too.
template <class T, class Predicate>
po::typed_value<T>* checked_value(std::string option, std::string allowed, Predicate ok) {
  return po::value<T>()->notifier([option = std::move(option), allowed = std::move(allowed), ok](const T& v) {
    if (!ok(v)) throw po::error(fmt::format("--{} must be {}, got {}", option, allowed, v));
  });
}

template <class T>
po::typed_value<T>* value_between(std::string option, T lo, T hi) {
  return checked_value<T>(std::move(option), fmt::format("between {} and {}", lo, hi),
                          [lo, hi](T v) { return v >= lo && v <= hi; });
}

template <class T>
po::typed_value<T>* value_at_least(std::string option, T lo) {
  return checked_value<T>(std::move(option), fmt::format("at least {}", lo), [lo](T v) { return v >= lo; });
}

// Strictly positive real numbers (rates, penalties).
po::typed_value<double>* positive_value(std::string option);

// The largest count an option takes (tokens, frames): far beyond any context, small enough to add safely.
// Counts and seeds are int64 options, never unsigned ones, which would wrap "-1" around silently.
inline constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();

// --model (unless !with_model: a caller that takes the model positionally adds it itself), --device,
// --threads, --dtype, --quantize, --quantize-cache.
void add_model_options(po::options_description& options, bool with_model = true);
// Image processor overrides: --min-pixels, --max-pixels (Qwen2-VL), --image-splitting on|off (Idefics2).
// load_request puts those given into LoadOptions::processor_overrides; a family refuses keys it lacks.
void add_processor_options(po::options_description& options);
// The load request those options describe (`model` from vm["model"]).
registry::LoadRequest load_request(const po::variables_map& vm);
// What image features depend on besides the pixels: the checkpoint, the weights' dtype and the processor
// settings (ImageFeatureCache's model key).
std::string image_cache_key(const registry::LoadedModel& loaded, const registry::LoadRequest& request);
// --memory-budget GiB | auto | 0 in bytes: kDefaultMemoryBudget for auto (added by add_model_options).
size_t memory_budget_option(const po::variables_map& vm);

// --kv-dtype f32 | bf16 (added by add_model_options).
DType kv_dtype_option(const po::variables_map& vm);
// --dtype: nullopt for auto (the stored dtype), else F32 or BF16.
std::optional<DType> dtype_option(const po::variables_map& vm);

// --json (one JSON document on stdout) and --dump DIR (tensors under Hugging Face's names) of the commands
// that have them; write_dump writes the dump when --dump was given (dump may be null otherwise).
void add_output_options(po::options_description& options);
void write_dump(const TensorDump* dump, const po::variables_map& vm);

}  // namespace vlm::host
