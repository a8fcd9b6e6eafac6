// vlm run: images / video + prompt -> generated text. The family issues complete the pipeline; this file
// owns the command-line contract shared by every family.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../options.hpp"
#include "../run/request.hpp"
#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/marks.hpp"
#include "vlm/image/video_sampling.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {

int run_command(const std::vector<std::string>& args) {
  po::options_description model_opts("model and device");
  add_model_options(model_opts);
  add_processor_options(model_opts);
  model_opts.add_options()
      ("image-cache-mb", value_between<int64_t>("image-cache-mb", 0, 1 << 20)->default_value(0),
       "keep connector outputs of decoded images, MiB (0 = off); a repeated image skips the vision encoder");
  po::options_description input_opts("inputs");
  input_opts.add_options()
      ("image,i", po::value<std::vector<std::string>>()->composing(), "image file (repeatable)")
      ("video", po::value<std::vector<std::string>>()->composing(), "video: a folder of frames (repeatable)")
      ("video-frames", value_between<int64_t>("video-frames", 1, kMaxCount), "sample this many evenly spaced frames of each video (even)")
      ("video-fps", positive_value("video-fps"), "sample frames at this rate (needs --video-source-fps)")
      ("video-source-fps", positive_value("video-source-fps"), "frame rate of the frame folders given with --video")
      ("prompt,p", po::value<std::string>(), "user text; images go first in one user turn of the chat template")
      ("raw", "send --prompt as is, without the chat template")
      ("messages", po::value<std::string>(), "HF-style conversation JSON file (image/video items name files with path)")
      ("mark", po::value<std::vector<std::string>>()->composing(),
       "visual prompt drawn on every --image: KIND:x0,y0,x1,y1[:COLOUR[:WIDTH]], KIND rect|ellipse|arrow (repeatable)")
      ("save-marked", po::value<std::string>(), "write the marked image (what the model sees) to this file");
  po::options_description gen_opts("generation");
  gen_opts.add_options()
      ("max-new-tokens", value_between<int64_t>("max-new-tokens", 0, kMaxCount), "tokens to generate at most (default: the model's settings, else 128)")
      ("min-new-tokens", value_between<int64_t>("min-new-tokens", 0, kMaxCount), "end-of-sequence is suppressed until this many tokens (HF min_new_tokens)")
      ("greedy", "greedy decoding (otherwise generation_config.json decides, as in Hugging Face; any sampling flag turns sampling on)")
      ("temperature", value_at_least<double>("temperature", 0.0), "sampling temperature (0 = greedy)")
      ("top-k", value_between<int64_t>("top-k", 0, kMaxCount), "top-k sampling (0 = off)")
      ("top-p", checked_value<double>("top-p", "in (0, 1]", [](double v) { return v > 0 && v <= 1; }), "nucleus sampling")
      ("min-p", value_between<double>("min-p", 0.0, 1.0), "min-p sampling (0 = off)")
      ("repetition-penalty", positive_value("repetition-penalty"), "repetition penalty (1 = off)")
      ("seed", value_at_least<int64_t>("seed", 0), "sampling seed")
      ("stop", po::value<std::vector<std::string>>()->composing(), "stop string (repeatable)")
      ("stop-id", po::value<std::vector<int64_t>>()->composing()->notifier([](const std::vector<int64_t>& ids) {
         for (const int64_t id : ids)
           if (id < 0) throw po::error(fmt::format("--stop-id must be a token id (at least 0), got {}", id));
       }), "extra stop token id (repeatable)")
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

  registry::LoadRequest request = load_request(vm);

  // Inputs are read (and images decoded) before the model loads, so a bad file fails fast.
  const auto strings = [&](const char* key) {
    return vm.count(key) ? vm[key].as<std::vector<std::string>>() : std::vector<std::string>{};
  };
  std::vector<Prompt> prompts;
  if (vm.count("messages")) {
    if (vm.count("image") || vm.count("video")) throw po::error("with --messages, name images and videos inside the file");
    prompts = prompts_from_messages_file(vm["messages"].as<std::string>());
  } else {
    prompts.push_back(prompt_from_text(vm["prompt"].as<std::string>(), strings("image"), strings("video"), vm.count("raw") != 0));
  }
  FrameSampling sampling;
  if (vm.count("video-frames")) sampling.frames = vm["video-frames"].as<int64_t>();
  if (vm.count("video-fps")) sampling.fps = vm["video-fps"].as<double>();
  for (auto& prompt : prompts)
    for (auto& video : prompt.videos) {
      if (vm.count("video-source-fps")) video.fps = vm["video-source-fps"].as<double>();
      sample_frames(video, sampling);
    }
  if (vm.count("mark") || vm.count("save-marked")) {
    if (vm.count("messages") || !vm.count("image")) throw po::error("--mark and --save-marked apply to --image files");
    std::vector<Mark> marks;
    for (const auto& spec : strings("mark")) marks.push_back(parse_mark(spec));
    auto& images = prompts.front().images;
    for (size_t i = 0; i < images.size(); ++i) {
      draw_marks(images[i], marks);
      if (vm.count("save-marked")) {
        std::filesystem::path out = vm["save-marked"].as<std::string>();
        if (images.size() > 1) out.replace_filename(fmt::format("{}-{}{}", out.stem().string(), i, out.extension().string()));
        save_image(images[i], out);
        spdlog::info("marked image written to {}", out.string());
      }
    }
  }

  auto loaded = registry::load_model(request);
  GenerationConfig generation = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                  loaded.checkpoint->config());
  if (loaded.resolved.named) generation.apply(loaded.resolved.named->generation);
  Json overrides = Json::object();
  if (vm.count("max-new-tokens")) overrides["max_new_tokens"] = vm["max-new-tokens"].as<int64_t>();
  if (vm.count("min-new-tokens")) overrides["min_new_tokens"] = vm["min-new-tokens"].as<int64_t>();
  const bool sampling_flag = vm.count("temperature") || vm.count("top-k") || vm.count("top-p") || vm.count("min-p");
  if (vm.count("temperature")) overrides["temperature"] = vm["temperature"].as<double>();
  if (vm.count("top-k")) overrides["top_k"] = vm["top-k"].as<int64_t>();
  if (vm.count("top-p")) overrides["top_p"] = vm["top-p"].as<double>();
  if (vm.count("min-p")) overrides["min_p"] = vm["min-p"].as<double>();
  if (vm.count("repetition-penalty")) overrides["repetition_penalty"] = vm["repetition-penalty"].as<double>();
  if (vm.count("seed")) overrides["seed"] = vm["seed"].as<int64_t>();
  if (vm.count("stop")) overrides["stop_strings"] = strings("stop");
  if (vm.count("ignore-eos")) overrides["ignore_eos"] = true;
  // A sampling flag asks for sampling; --greedy always wins.
  if (sampling_flag) overrides["do_sample"] = true;
  if (vm.count("greedy")) overrides["do_sample"] = false;
  generation.apply(overrides);
  if (vm.count("stop-id"))
    for (const int64_t id : vm["stop-id"].as<std::vector<int64_t>>()) generation.eos_token_ids.push_back(id);

  std::unique_ptr<TensorDump> dump;
  if (vm.count("dump")) dump = std::make_unique<TensorDump>(*loaded.backend);
  const bool json = vm.count("json") != 0;
  const bool stream = !json && prompts.size() == 1;
  std::unique_ptr<ImageFeatureCache> image_cache;
  if (const int64_t mb = vm["image-cache-mb"].as<int64_t>(); mb > 0)
    image_cache = std::make_unique<ImageFeatureCache>(size_t(mb) << 20, image_cache_key(loaded, request), *loaded.backend);
  const auto result = generate(*loaded.model, prompts, generation,
                               stream ? TextCallback([](size_t, const std::string& piece) {
                                 std::fwrite(piece.data(), 1, piece.size(), stdout);
                                 std::fflush(stdout);
                               })
                                      : TextCallback(),
                               dump.get(), {image_cache.get(), kv_dtype_option(vm)});
  if (dump) spdlog::info("dumped {} tensors to {}", dump->tensors().size(), dump->write(vm["dump"].as<std::string>()).string());

  if (json) {
    Json out = Json::object();
    auto row_json = [&](size_t i) {
      return Json{{"prompt_ids", result.prompt_ids[i]}, {"generated_ids", result.generated_ids[i]},
                  {"text", result.texts[i]}, {"finish_reason", result.finish_reasons[i]}};
    };
    if (result.texts.size() == 1) {
      out = row_json(0);
    } else {
      out["rows"] = Json::array();
      for (size_t i = 0; i < result.texts.size(); ++i) out["rows"].push_back(row_json(i));
    }
    const auto& t = result.timings;
    out["timings"] = {{"load_ms", loaded.load_seconds * 1000.0}, {"preprocess_ms", t.preprocess_ms},
                      {"vision_encode_ms", t.vision_ms},        {"prefill_ms", t.prefill_ms},
                      {"decode_ms", t.decode_ms},              {"decode_steps", t.decode_steps},
                      {"per_token_decode_ms", t.per_token_decode_ms()}};
    fmt::print("{}\n", out.dump(2));
  } else if (stream) {
    fmt::print("\n");
  } else {
    for (size_t i = 0; i < result.texts.size(); ++i) fmt::print("[{}] {}\n", i, result.texts[i]);
  }
  return 0;
}

}  // namespace vlm::host
