// vlm bench: vision encode, prefill and decode speed of a model on a synthetic image and prompt.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../options.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/model/processing.hpp"
#include "vlm/registry/loader.hpp"

namespace vlm::host {

namespace {

// A smooth colour gradient with some texture, so resizing does real work.
Image synthetic_image(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.source = fmt::format("<synthetic {}x{}>", width, height);
  image.rgb.resize(size_t(width) * size_t(height) * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[(size_t(y) * size_t(width) + size_t(x)) * 3];
      p[0] = uint8_t(255 * x / std::max(1, width - 1));
      p[1] = uint8_t(255 * y / std::max(1, height - 1));
      p[2] = uint8_t(((x / 8) + (y / 8)) % 2 ? 200 : 40);
    }
  return image;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// Bytes of weights the backend has multiplied so far (0 when it does not count them).
uint64_t weight_bytes_read(const Backend& backend) {
  const auto report = backend.report(false);
  return report.contains("matmul_weight_bytes") ? report["matmul_weight_bytes"].get<uint64_t>() : 0;
}

}  // namespace

int bench_command(const std::vector<std::string>& args) {
  po::options_description options("vlm bench");
  add_model_options(options);
  add_processor_options(options);
  options.add_options()
      ("image-size", po::value<std::string>()->default_value("448x448"), "synthetic image WIDTHxHEIGHT, or none")
      ("prompt-words", value_between<int>("prompt-words", 1, 1'000'000)->default_value(64), "words of text in the prompt")
      ("new-tokens", value_between<int64_t>("new-tokens", 1, kMaxCount)->default_value(32), "tokens to decode (eos ignored)")
      ("runs", value_between<int>("runs", 1, 1000)->default_value(3), "timed runs after one warm-up; medians are reported")
      ("sequences", value_between<int>("sequences", 1, 256)->default_value(1),
       "concurrent requests decoded together (aggregate tokens/s; one pass over the weights serves them all)")
      ("no-bandwidth-probe", "skip the memory read-bandwidth probe (about a second) and the decode bound derived "
                             "from it (which takes one more run of the prompt)")
      ("json", "print one JSON object (vision_ms, prefill_tokens_per_s, decode_tokens_per_s, ...) instead of text");
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm bench --model MODEL [options]\n\nPrints vision encode ms per request, prefill "
                           "and decode tokens/s summed over --sequences concurrent requests (medians over --runs).",
                     options, {}, vm))
    return 0;

  auto loaded = registry::load_model(load_request(vm));

  Prompt prompt;
  OrderedJson content = OrderedJson::array();
  const std::string size = vm["image-size"].as<std::string>();
  if (size != "none") {
    int w = 0, h = 0;
    char rest = 0;
    if (std::sscanf(size.c_str(), "%dx%d%c", &w, &h, &rest) != 2 || w <= 0 || h <= 0 || w > 16384 || h > 16384)
      throw po::error(fmt::format("--image-size must be WIDTHxHEIGHT (each 1 to 16384) or none, got '{}'", size));
    prompt.images.push_back(synthetic_image(w, h));
    content.push_back({{"type", "image"}});
  }
  std::string text = "Describe";
  for (int i = 1; i < vm["prompt-words"].as<int>(); ++i) text += i % 7 ? " the picture" : " in detail.";
  content.push_back({{"type", "text"}, {"text", text}});
  // Checkpoints without a chat template (BLIP-2) take the text as it is; their processor places the image.
  if (PromptRenderer(loaded.checkpoint->dir()).has_template())
    prompt.messages = OrderedJson::array({{{"role", "user"}, {"content", content}}});
  else
    prompt.raw = text;

  GenerationConfig config = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                              loaded.checkpoint->config());
  config.do_sample = false;
  config.ignore_eos = true;
  config.max_new_tokens = vm["new-tokens"].as<int64_t>();

  std::vector<double> preprocess, vision, prefill, decode;
  int64_t prompt_tokens = 0;
  const int runs = vm["runs"].as<int>(), sequences = vm["sequences"].as<int>();
  const std::vector<Prompt> prompts(size_t(sequences), prompt);
  const bool probe_bandwidth = !vm.count("no-bandwidth-probe");
  uint64_t last_run_bytes = 0;  // weight bytes the last timed run multiplied
  for (int run = 0; run <= runs; ++run) {
    const uint64_t before = weight_bytes_read(*loaded.backend);
    const auto result = generate(*loaded.model, prompts, config, {}, nullptr, {nullptr, kv_dtype_option(vm)});
    last_run_bytes = weight_bytes_read(*loaded.backend) - before;
    if (run == 0) continue;  // warm-up: primitive creation, page faults of the mapped weights
    prompt_tokens = int64_t(result.prompt_ids[0].size());
    preprocess.push_back(result.timings.preprocess_ms / sequences);
    vision.push_back(result.timings.vision_ms / sequences);
    prefill.push_back(result.timings.prefill_ms);
    decode.push_back(result.timings.per_token_decode_ms());
  }

  // Decode is bound by reading the weights once per step. The bytes one step multiplies are what a run of
  // N tokens reads beyond a run of one token (prompt and vision alike), over its N - 1 decode steps; the
  // one-token run is extra, so it is skipped with the bandwidth probe.
  const int64_t new_tokens = config.max_new_tokens;
  double step_bytes = 0;
  if (probe_bandwidth && new_tokens >= 2) {
    GenerationConfig one_token = config;
    one_token.max_new_tokens = 1;
    const uint64_t before = weight_bytes_read(*loaded.backend);
    generate(*loaded.model, prompts, one_token, {}, nullptr, {nullptr, kv_dtype_option(vm)});
    const uint64_t single = weight_bytes_read(*loaded.backend) - before;
    if (last_run_bytes > single) step_bytes = double(last_run_bytes - single) / double(new_tokens - 1);
  }
  const double rss_mb = peak_rss_mb();  // before the bandwidth probe's buffer
  Json backend_report = loaded.backend->report(probe_bandwidth);
  backend_report.erase("matmul_weight_bytes");  // a running counter, meaningless on its own
  const double bandwidth_gbs = backend_report.value("read_bandwidth_gbs", 0.0);
  // Aggregate bound: one pass over the weights serves every concurrent sequence.
  const double decode_bound = bandwidth_gbs > 0 && step_bytes > 0 ? bandwidth_gbs * 1e9 / step_bytes * sequences : 0;
  // Aggregate over the concurrent requests: each prefill or decode step serves all of them.
  const double prefill_per_s = 1000.0 * double(prompt_tokens * sequences) / std::max(median(prefill), 1e-9);
  const double decode_per_s = 1000.0 * sequences / std::max(median(decode), 1e-9);
  if (vm.count("json")) {
    Json out = {{"model", loaded.resolved.dir.string()},
                {"device", loaded.backend->describe()},
                {"dtype", vm["dtype"].as<std::string>()},
                {"kv_dtype", vm["kv-dtype"].as<std::string>()},
                {"quantize", vm["quantize"].as<std::string>()},
                {"load_ms", loaded.load_seconds * 1000},
                {"image_size", size},
                {"prompt_tokens", prompt_tokens},
                {"new_tokens", config.max_new_tokens},
                {"runs", runs},
                {"sequences", sequences},
                {"preprocess_ms", median(preprocess)},
                {"vision_ms", median(vision)},
                {"prefill_ms", median(prefill)},
                {"prefill_tokens_per_s", prefill_per_s},
                {"decode_ms_per_step", median(decode)},
                {"decode_tokens_per_s", decode_per_s},
                {"peak_rss_mb", rss_mb},
                {"backend", backend_report}};
    if (decode_bound > 0) {
      out["decode_weight_bytes_per_step"] = step_bytes;
      out["decode_bound_tokens_per_s"] = decode_bound;
      out["decode_fraction_of_bound"] = decode_per_s / decode_bound;
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("model      {}\ndevice     {}\nload       {:.0f} ms\n", loaded.resolved.dir.string(),
             loaded.backend->describe(), loaded.load_seconds * 1000);
  if (vm["quantize"].as<std::string>() != "none")
    fmt::print("quantize   {} (kernel for few rows: {})\n", vm["quantize"].as<std::string>(),
               backend_report.value("quantized_kernel", std::string("n/a")));
  fmt::print("sequences  {}\n", sequences);
  fmt::print("preprocess {:.1f} ms per request (image {})\n", median(preprocess), size);
  fmt::print("vision     {:.1f} ms per request\n", median(vision));
  fmt::print("prefill    {:.1f} ms for {} x {} tokens = {:.1f} tokens/s\n", median(prefill), sequences, prompt_tokens,
             prefill_per_s);
  fmt::print("decode     {:.2f} ms/step = {:.2f} tokens/s ({} tokens each)\n", median(decode), decode_per_s,
             config.max_new_tokens);
  if (decode_bound > 0)
    fmt::print("bound      {:.2f} tokens/s reading {:.1f} MB of weights per step at {:.1f} GB/s: {:.0f}% of it\n",
               decode_bound, step_bytes / 1e6, bandwidth_gbs, 100.0 * decode_per_s / decode_bound);
  if (backend_report.contains("matmul_path"))
    fmt::print("matmul     {} ({})\n", backend_report["matmul_path"].get<std::string>(),
               backend_report.value("matmul_reason", std::string("")));
  if (backend_report.contains("f32_fma_gflops_per_core"))
    fmt::print("peaks      f32 FMA {:.0f}, bf16 dot {:.0f} GFLOP/s per core x {} threads\n",
               backend_report["f32_fma_gflops_per_core"].get<double>(),
               backend_report["bf16_dot_gflops_per_core"].get<double>(), backend_report.value("threads", 1));
  fmt::print("peak RSS   {:.0f} MB\n", rss_mb);
  return 0;
}

}  // namespace vlm::host
