// vlm score / vlm fill-mask: encoder-only (scoring) families through the SDK's Scorer, the same for every
// family that has one. Results on stdout (text, or one JSON document with --json); logs on stderr.
#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../json_io.hpp"
#include "../options.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/score/score.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {
namespace {

// One prompt per text, each with the same image (decoded once).
std::vector<Prompt> pairs_with(const Image& image, const std::vector<std::string>& texts) {
  std::vector<Prompt> prompts;
  for (const auto& text : texts) {
    Prompt p;
    p.raw = text;
    p.images.push_back(image);
    prompts.push_back(std::move(p));
  }
  return prompts;
}

}  // namespace

int score_command(const std::vector<std::string>& args) {
  po::options_description options("vlm score");
  add_model_options(options);
  options.add_options()
      ("image,i", po::value<std::string>()->required(), "image file")
      ("text", po::value<std::vector<std::string>>()->composing()->required(), "text to score with the image (repeatable)")
      ("task", po::value<std::string>()->default_value("itm"),
       "itm (image-text matching: 2 logits and the match probability per text) or contrastive (L2-normalised "
       "text, image and cross-modal embeddings and their similarity matrices)");
  add_output_options(options);
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm score --model MODEL --image FILE --text TEXT [--text TEXT]... [--task itm|contrastive]",
                     options, {}, vm))
    return 0;
  const std::string task = vm["task"].as<std::string>();
  if (task != "itm" && task != "contrastive") throw po::error("--task must be itm or contrastive, got '" + task + "'");
  registry::LoadRequest request = load_request(vm);
  const Image image = load_image(vm["image"].as<std::string>());  // before the model loads: a bad file fails fast
  const auto texts = vm["text"].as<std::vector<std::string>>();
  auto loaded = registry::load_model(request);
  std::unique_ptr<TensorDump> dump;
  if (vm.count("dump")) dump = std::make_unique<TensorDump>(*loaded.backend);
  const TensorMap out = score_prompts(*loaded.model, pairs_with(image, texts), task, dump.get());
  write_dump(dump.get(), vm);

  const bool json = vm.count("json") != 0;
  if (task == "itm") {
    const Tensor& logits = out.at("logits");
    const Tensor& prob = out.at("match_prob");
    OrderedJson rows = OrderedJson::array();
    for (size_t i = 0; i < texts.size(); ++i) {
      const float* l = logits.data<float>() + 2 * i;
      if (json)
        rows.push_back({{"text", texts[i]}, {"itm_logits", {l[0], l[1]}}, {"match_prob", prob.data<float>()[i]}});
      else
        fmt::print("{:.6f}\t{}\n", prob.data<float>()[i], texts[i]);
    }
    if (json) fmt::print("{}\n", OrderedJson{{"task", "itm"}, {"rows", rows}}.dump(2));
    return 0;
  }
  OrderedJson doc = {{"task", "contrastive"}, {"texts", texts}};
  for (const char* name : {"text_embeds", "image_embeds", "cross_embeds", "logits_text_to_image", "logits_text_to_cross",
                           "logits_image_to_cross"})
    doc[name] = json_rows(out.at(name));
  if (json) {
    fmt::print("{}\n", doc.dump(2));
  } else {
    // Per text: its similarity to the image (text-to-image) and to its own cross-modal embedding.
    const Tensor& t2i = out.at("logits_text_to_image");
    const Tensor& t2c = out.at("logits_text_to_cross");
    const int64_t n = int64_t(texts.size());
    for (int64_t i = 0; i < n; ++i)
      fmt::print("{:.6f}\t{:.6f}\t{}\n", t2i.data<float>()[i * n + i], t2c.data<float>()[i * n + i], texts[size_t(i)]);
  }
  return 0;
}

int fill_mask_command(const std::vector<std::string>& args) {
  po::options_description options("vlm fill-mask");
  add_model_options(options);
  options.add_options()
      ("image,i", po::value<std::string>()->required(), "image file")
      ("text", po::value<std::string>()->required(), "text with one or more mask tokens (e.g. <mask>)")
      ("top-k", value_between<int64_t>("top-k", 1, 1000)->default_value(5), "candidates shown per mask");
  add_output_options(options);
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm fill-mask --model MODEL --image FILE --text \"... <mask> ...\" [--top-k K]",
                     options, {}, vm))
    return 0;
  registry::LoadRequest request = load_request(vm);
  const Image image = load_image(vm["image"].as<std::string>());
  const std::string text = vm["text"].as<std::string>();
  auto loaded = registry::load_model(request);
  Processor& processor = loaded.model->processor();
  const int64_t mask_id = processor.mask_token_id();
  if (mask_id < 0) fail("this model's tokenizer has no mask token: it cannot fill masks");
  std::unique_ptr<TensorDump> dump;
  if (vm.count("dump")) dump = std::make_unique<TensorDump>(*loaded.backend);
  const std::vector<Prompt> prompts = pairs_with(image, {text});
  const ModelInputs inputs = processor.prepare(prompts);
  const TensorMap out = score_inputs(*loaded.model, inputs, "mlm", dump.get());
  const FillMaskResult filled =
      fill_masks(out.at("logits"), inputs.at("input_ids"), inputs.at("attention_mask"), mask_id, vm["top-k"].as<int64_t>());
  if (filled.masks.empty()) fail("--text has no mask token ({}): nothing to fill", processor.decode(std::vector<int64_t>{mask_id}, false));
  if (dump) {
    dump->record("argmax_ids", filled.argmax_ids);
    dump->record("filled_ids", filled.filled_ids);
  }
  write_dump(dump.get(), vm);
  // As Hugging Face's fill-mask pipeline: the filled sequence decoded without special tokens.
  const Tensor& ids = filled.filled_ids;
  const std::vector<int64_t> row(ids.data<int64_t>(), ids.data<int64_t>() + ids.numel());
  std::vector<int64_t> real;
  for (int64_t s = 0; s < ids.numel(); ++s)
    if (inputs.at("attention_mask").data<int64_t>()[s]) real.push_back(row[size_t(s)]);
  const std::string filled_text = processor.decode(real, true);
  if (vm.count("json")) {
    OrderedJson masks = OrderedJson::array();
    for (const auto& m : filled.masks) {
      OrderedJson candidates = OrderedJson::array();
      for (size_t i = 0; i < m.ids.size(); ++i)
        candidates.push_back({{"token_id", m.ids[i]}, {"token", processor.decode(std::vector<int64_t>{m.ids[i]}, false)},
                              {"probability", m.probabilities[i]}});
      masks.push_back({{"position", m.position}, {"candidates", candidates}});
    }
    fmt::print("{}\n", OrderedJson{{"masks", masks}, {"filled_text", filled_text}}.dump(2, ' ', false, OrderedJson::error_handler_t::replace));
    return 0;
  }
  for (const auto& m : filled.masks) {
    std::vector<std::string> shown;
    for (size_t i = 0; i < m.ids.size(); ++i)
      shown.push_back(fmt::format("{} {:.4f}", OrderedJson(processor.decode(std::vector<int64_t>{m.ids[i]}, false))
                                                   .dump(-1, ' ', false, OrderedJson::error_handler_t::replace),
                                  m.probabilities[i]));
    fmt::print("mask at {}: {}\n", m.position, fmt::join(shown, ", "));
  }
  fmt::print("{}\n", filled_text);
  return 0;
}

}  // namespace vlm::host
