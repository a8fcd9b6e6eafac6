// vlm: run vision-language models from Hugging Face checkpoints. `vlm --help` lists the subcommands.
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "command.hpp"
#include "vlm/util/error.hpp"
#include "vlm/version.hpp"

namespace vlm::host {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"run", "generate text for images / video and a prompt", run_command},
      {"list", "plugins, compute backends and named models", list_command},
      {"info", "what a model resolves to: plugin, config, parameters", info_command},
      {"synth", "write a random-weight checkpoint of a family (tests, demos, benchmarks)", synth_command},
      {"bench", "time vision encoding, prefill and decode on a synthetic image and prompt", bench_command},
      {"compare", "compare a --dump with reference tensors (e.g. from Hugging Face), tensor by tensor", compare_command},
      {"score", "score texts against an image: image-text matching or contrastive embeddings", score_command},
      {"retrieve", "rank texts for each image and images for each text (image-text matching or contrastive)",
       retrieve_command},
      {"serve", "an OpenAI-compatible HTTP server (chat completions, streaming, continuous batching)", serve_command},
      {"eval", "evaluate a model on benchmark tasks (YAML): resumable, sharded, lmms-eval's metrics", eval_command},
      {"fill-mask", "fill the mask tokens of a text about an image (masked LM)", fill_mask_command},
      {"tokenize", "how a tokenizer encodes and decodes text (debugging, reference comparison)", tokenize_command},
      {"template", "the exact prompt a chat template renders for messages (debugging)", template_command},
  };
  return all;
}

bool parse_options(const std::vector<std::string>& args, const std::string& usage, const po::options_description& options,
                   const po::positional_options_description& positional, po::variables_map& vm) {
  po::options_description all;
  all.add(options);
  all.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << all << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace vlm::host

namespace {

void print_usage() {
  fmt::print("vlm {}: vision-language models from Hugging Face checkpoints, natively\n\n", VLM_VERSION_STRING);
  fmt::print("usage: vlm <command> [options]   (vlm <command> --help for its options)\n\ncommands:\n");
  for (const auto& c : vlm::host::commands()) fmt::print("  {:<8} {}\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries results only (the text, or one JSON document); every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("vlm"));
  spdlog::set_pattern("[%l] %v");
  spdlog::set_level(spdlog::level::info);
  if (const char* level = std::getenv("VLM_LOG")) spdlog::set_level(spdlog::level::from_str(level));
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version") {
    fmt::print("vlm {} (SDK ABI {})\n", VLM_VERSION_STRING, VLM_SDK_ABI_VERSION);
    return 0;
  }
  const std::string name = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& command : vlm::host::commands()) {
    if (name != command.name) continue;
    try {
      return command.run(args);
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "vlm {}: {}\n(see `vlm {} --help`)\n", name, e.what(), name);
      return 2;
    } catch (const vlm::Error& e) {
      fmt::print(stderr, "vlm {}: error: {}\n", name, e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr, "vlm {}: error: out of memory\n", name);
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "vlm {}: internal error: {}\n", name, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "vlm: unknown command '{}'\n\n", name);
  print_usage();
  return 2;
}
