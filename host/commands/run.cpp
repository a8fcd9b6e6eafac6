// vlm run: images / video + prompt -> generated text. The family issues complete the pipeline; this file
// owns the command-line contract shared by every family.
#include <fmt/format.h>

#include "../command.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {

int run_command(const std::vector<std::string>& args) {
  po::options_description model_opts("model and device");
  model_opts.add_options()
      ("model,m", po::value<std::string>()->required(), "named model, checkpoint directory or Hugging Face repo id")
      ("device,d", po::value<std::string>()->default_value("auto"), "auto | cpu | cuda")
      ("threads,t", po::value<int>()->default_value(0), "CPU threads (0 = all cores)")
      ("dtype", po::value<std::string>(), "compute dtype: f32 (parity) or bf16");
  po::options_description input_opts("inputs");
  input_opts.add_options()
      ("image,i", po::value<std::vector<std::string>>()->composing(), "image file (repeatable)")
      ("video", po::value<std::vector<std::string>>()->composing(), "video: a folder of frames (repeatable)")
      ("prompt,p", po::value<std::string>(), "user text; images go first in one user turn of the chat template")
      ("raw", "send --prompt as is, without the chat template")
      ("messages", po::value<std::string>(), "HF-style conversation JSON file (image/video items name files with path)");
  po::options_description gen_opts("generation");
  gen_opts.add_options()
      ("max-new-tokens", po::value<int>()->default_value(128), "tokens to generate at most")
      ("greedy", "greedy decoding (otherwise generation_config.json decides, as in Hugging Face)")
      ("temperature", po::value<double>(), "sampling temperature")
      ("top-k", po::value<int>(), "top-k sampling")
      ("top-p", po::value<double>(), "nucleus sampling")
      ("min-p", po::value<double>(), "min-p sampling")
      ("repetition-penalty", po::value<double>(), "repetition penalty")
      ("seed", po::value<uint64_t>(), "sampling seed")
      ("stop", po::value<std::vector<std::string>>()->composing(), "stop string (repeatable)")
      ("ignore-eos", "do not stop at end-of-sequence tokens");
  po::options_description out_opts("output");
  out_opts.add_options()
      ("json", "print one JSON object: prompt_ids, generated_ids, text, timings")
      ("dump", po::value<std::string>(), "write intermediate tensors (HF names) to DIR/tensors.safetensors");
  po::options_description options;
  options.add(model_opts).add(input_opts).add(gen_opts).add(out_opts);
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm run --model MODEL [--image FILE]... (--prompt TEXT | --messages FILE) [options]",
                     options, {}, vm))
    return 0;
  if (!vm.count("prompt") && !vm.count("messages")) throw po::error("give --prompt TEXT or --messages FILE");
  if (vm.count("prompt") && vm.count("messages")) throw po::error("--prompt and --messages exclude each other");

  registry::LoadRequest request;
  request.model = vm["model"].as<std::string>();
  request.device = vm["device"].as<std::string>();
  request.threads = vm["threads"].as<int>();
  if (vm.count("dtype")) {
    const auto dtype = dtype_from_name(vm["dtype"].as<std::string>());
    if (!dtype || (*dtype != DType::F32 && *dtype != DType::BF16)) throw po::error("--dtype must be f32 or bf16");
    request.options.compute_dtype = *dtype;
  }
  auto loaded = registry::load_model(request);
  fail("{}: the {} plugin loaded the model, but the generation pipeline is not implemented yet",
       loaded.resolved.dir.string(), loaded.resolved.plugin->name);
}

}  // namespace vlm::host
