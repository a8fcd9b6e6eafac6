// vlm retrieve: rank texts for each image and images for each text with a scoring family's retrieval
// stages (core retrieve()): each image and each text encoded once, pairs scored in batches. Results on
// stdout (text, or one JSON document with --json); progress and logs on stderr.
#include <filesystem>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../json_io.hpp"
#include "../options.hpp"
#include "../progress.hpp"
#include "vlm/image/load.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/score/retrieve.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {
namespace {

namespace fs = std::filesystem;

// --images: one folder (its image files, natural order) or image files, each checked to exist before the
// model loads, so a typo costs nothing.
std::vector<fs::path> image_paths(const std::vector<std::string>& given) {
  if (given.size() == 1 && fs::is_directory(given[0])) return list_image_files(given[0]);
  std::vector<fs::path> paths;
  for (const auto& g : given) {
    std::error_code error;
    const auto status = fs::status(g, error);
    if (error || !fs::exists(status)) fail("{}: no such image file", g);
    if (fs::is_directory(status)) fail("{}: a folder among several --images: give one folder, or files", g);
    if (!fs::is_regular_file(status)) fail("{}: not a regular file", g);
    paths.emplace_back(g);
  }
  return paths;
}

// --texts: one text per line; blank lines are skipped (a trailing newline is common), a CR before the
// newline dropped. `lines` gets each text's 1-based line number.
std::vector<std::string> read_texts(const std::string& path, std::vector<int64_t>& lines) {
  const std::string content = read_text_file(path);
  std::vector<std::string> texts;
  int64_t line_number = 0;
  for (size_t start = 0; start < content.size();) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    texts.push_back(std::move(line));
    lines.push_back(line_number);
  }
  if (texts.empty()) fail("{}: no text (one text per line)", path);
  return texts;
}

std::string one_line(const std::string& text) {  // for the text listing: JSON-quoted when it has control bytes
  for (const unsigned char c : text)
    if (c < 0x20) return OrderedJson(text).dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  return text;
}

}  // namespace

int retrieve_command(const std::vector<std::string>& args) {
  po::options_description options("vlm retrieve");
  add_model_options(options);
  options.add_options()
      ("images", po::value<std::vector<std::string>>()->multitoken()->composing()->required(),
       "image files, or one folder of them (png, jpg, webp, ...; natural name order)")
      ("texts", po::value<std::string>()->required(), "text file: one text per line (blank lines skipped)")
      ("by", po::value<std::string>()->default_value("itm"),
       "itm (image-text matching: the cross-modal layers run for every pair; score = match probability) or itc "
       "(contrastive: one embedding per image and per text; score = scaled cosine similarity)")
      ("top-k", value_between<int64_t>("top-k", 1, kMaxCount)->default_value(5), "entries in each ranking")
      ("batch-size", value_between<int64_t>("batch-size", 1, 1024)->default_value(8),
       "images or texts per encoding batch, and pairs per scoring batch");
  add_output_options(options);
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm retrieve --model MODEL --images IMAGE... | --images FOLDER --texts FILE "
                     "[--by itm|itc] [--top-k K] [--batch-size B]\n\n"
                     "Ranks the texts for each image and the images for each text. Each image and each text is\n"
                     "encoded once; with --by itm every image-text pair then runs the cross-modal layers.",
                     options, {}, vm))
    return 0;
  RetrievalOptions retrieval;
  retrieval.by = vm["by"].as<std::string>();
  if (retrieval.by != "itm" && retrieval.by != "itc")
    throw po::error("--by must be itm or itc, got '" + retrieval.by + "'");
  retrieval.top_k = vm["top-k"].as<int64_t>();
  retrieval.batch_size = vm["batch-size"].as<int64_t>();
  // Inputs are checked before the model loads.
  const std::vector<fs::path> paths = image_paths(vm["images"].as<std::vector<std::string>>());
  std::vector<int64_t> lines;
  const std::vector<std::string> texts = read_texts(vm["texts"].as<std::string>(), lines);
  registry::LoadRequest request = load_request(vm);
  auto loaded = registry::load_model(request);

  const int64_t I = int64_t(paths.size()), T = int64_t(texts.size());
  std::unique_ptr<Progress> progress;
  std::string stage;
  retrieval.progress = [&](std::string_view now, int64_t done, int64_t total) {
    if (now != stage) {
      if (progress) progress->finish();
      stage = std::string(now);
      progress = std::make_unique<Progress>(stage == "texts" ? "encoding texts" : "scoring pairs", total, std::string(now));
    }
    progress->update(done);
  };
  spdlog::info("retrieve: {} images x {} texts = {} pairs by {}", I, T, I * T, retrieval.by);
  const RetrievalResult result = retrieve(
      *loaded.model, I, [&](int64_t i) { return load_image(paths[size_t(i)]); }, texts, retrieval);
  if (progress) progress->finish();
  const double total_seconds = result.texts_seconds + result.images_seconds + result.pairs_seconds;
  spdlog::info("retrieve: texts {:.2f} s, images {:.2f} s, pairs {:.2f} s; {:.2f} pairs/s overall", result.texts_seconds,
               result.images_seconds, result.pairs_seconds, double(I * T) / std::max(total_seconds, 1e-9));

  if (vm.count("dump")) {
    TensorDump dump(*loaded.backend);
    dump.record("scores", result.scores);
    if (result.image_embeds.defined()) {
      dump.record("image_embeds", result.image_embeds);
      dump.record("text_embeds", result.text_embeds);
      Tensor text_to_image = Tensor::zeros(Shape{T, I}, DType::F32);  // HF's [texts, images] layout
      for (int64_t i = 0; i < I; ++i)
        for (int64_t t = 0; t < T; ++t)
          text_to_image.data<float>()[t * I + i] = result.scores.data<float>()[i * T + t];
      dump.record("logits_text_to_image", text_to_image);
    }
    write_dump(&dump, vm);
  }

  const char* score_name = retrieval.by == "itm" ? "match_prob" : "logits_text_to_image";
  if (vm.count("json")) {
    OrderedJson images = OrderedJson::array(), text_list = OrderedJson::array();
    for (const auto& p : paths) images.push_back(p.string());
    for (size_t t = 0; t < texts.size(); ++t) text_list.push_back({{"text", texts[t]}, {"line", lines[t]}});
    OrderedJson for_image = OrderedJson::array(), for_text = OrderedJson::array();
    for (int64_t i = 0; i < I; ++i) {
      OrderedJson top = OrderedJson::array();
      for (const Ranked& r : result.texts_for_image[size_t(i)])
        top.push_back({{"text", r.index}, {"score", r.score}});
      for_image.push_back({{"image", i}, {"top", top}});
    }
    for (int64_t t = 0; t < T; ++t) {
      OrderedJson top = OrderedJson::array();
      for (const Ranked& r : result.images_for_text[size_t(t)])
        top.push_back({{"image", r.index}, {"score", r.score}});
      for_text.push_back({{"text", t}, {"top", top}});
    }
    const OrderedJson doc = {
        {"by", retrieval.by},
        {"score", score_name},
        {"images", images},
        {"texts", text_list},
        {"scores", json_rows(result.scores)},
        {"texts_for_image", for_image},
        {"images_for_text", for_text},
        {"seconds", {{"texts", result.texts_seconds}, {"images", result.images_seconds}, {"pairs", result.pairs_seconds}}}};
    fmt::print("{}\n", doc.dump(2, ' ', false, OrderedJson::error_handler_t::replace));
    return 0;
  }
  fmt::print("# texts for each image (by {}, score = {})\n", retrieval.by, score_name);
  for (int64_t i = 0; i < I; ++i) {
    fmt::print("{}\n", paths[size_t(i)].string());
    for (const Ranked& r : result.texts_for_image[size_t(i)])
      fmt::print("  {:.6f}\t{}\n", r.score, one_line(texts[size_t(r.index)]));
  }
  fmt::print("# images for each text\n");
  for (int64_t t = 0; t < T; ++t) {
    fmt::print("{}\n", one_line(texts[size_t(t)]));
    for (const Ranked& r : result.images_for_text[size_t(t)])
      fmt::print("  {:.6f}\t{}\n", r.score, paths[size_t(r.index)].string());
  }
  return 0;
}

}  // namespace vlm::host
