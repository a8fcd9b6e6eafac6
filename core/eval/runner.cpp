#include "vlm/eval/runner.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "vlm/generate/generator.hpp"
#include "vlm/image/load.hpp"
#include "vlm/model/processing.hpp"
#include "vlm/util/error.hpp"

namespace vlm::eval {

namespace {

// A file path, or a data: URI ("data:image/png;base64,....").
Image load_document_image(const std::string& source, int64_t doc_id, const ImageLoadOptions& options = {}) {
  if (source.rfind("data:", 0) != 0) return load_image(source, options);
  const std::string where = fmt::format("document {}: data: URI", doc_id);
  const std::string bytes = data_uri_bytes(source);  // checked when the documents were loaded
  return decode_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), where, options);
}

Prompt document_prompt(const Document& doc, bool chat_template) {
  Prompt prompt;
  RequestPixels pixels;  // the document's images together
  ImageLoadOptions options;
  options.request = &pixels;
  for (const auto& image : doc.images) prompt.images.push_back(load_document_image(image, doc.id, options));
  if (!chat_template) {
    prompt.raw = doc.prompt;
    return prompt;
  }
  OrderedJson content = OrderedJson::array();
  for (size_t i = 0; i < doc.images.size(); ++i) content.push_back({{"type", "image"}});
  content.push_back({{"type", "text"}, {"text", doc.prompt}});
  prompt.messages = OrderedJson::array({{{"role", "user"}, {"content", content}}});
  return prompt;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GenerationConfig task_generation(const Task& task, const GenerationConfig& defaults) {
  GenerationConfig config = defaults;
  config.do_sample = false;
  const Json& g = task.generation_kwargs;
  Json overrides = Json::object();
  for (const char* key : {"max_new_tokens", "min_new_tokens", "top_p", "top_k", "repetition_penalty", "seed"})
    if (g.contains(key)) overrides[key] = g[key];
  if (g.contains("temperature")) {
    const double t = g["temperature"].get<double>();
    if (t > 0) {
      overrides["temperature"] = t;
      overrides["do_sample"] = true;
    }
  }
  if (g.contains("do_sample")) overrides["do_sample"] = g["do_sample"];
  if (g.contains("until")) overrides["stop_strings"] = g["until"].is_string() ? Json::array({g["until"]}) : g["until"];
  config.apply(overrides);
  return config;
}

OrderedJson make_sample(const Task& task, const Document& doc, const std::string& prediction, const Json& metrics) {
  return OrderedJson{{"doc_id", doc.id},
                     {"prompt", doc.prompt},
                     {"prediction", prediction},
                     {"target", doc.fields.at(task.doc_to_target)},
                     {"metrics", OrderedJson::parse(metrics.dump())}};
}

void check_runnable(Model& model, const Task& task) {
  if (model.decoder()) return;
  if (task.output_type == OutputType::GenerateUntil)
    fail("{}: task {} generates text, and this model has no decoder (a scoring model runs multiple_choice tasks)",
         task.file.string(), task.name);
  Scorer* scorer = model.scorer();
  if (!scorer) fail("this model has neither a decoder nor a scorer: it cannot run task {}", task.name);
  const auto methods = scorer->retrieval_methods();
  if (std::find(methods.begin(), methods.end(), task.retrieval_method) == methods.end())
    fail("{}: retrieval_method {} is not available for this model (it has: {})", task.file.string(),
         task.retrieval_method, fmt::join(methods, ", "));
}

RunStats run_documents(Model& model, const Task& task, std::span<const Document* const> documents,
                       const RunOptions& options) {
  RunStats stats;
  const auto start = std::chrono::steady_clock::now();
  const PromptRenderer renderer(options.checkpoint_dir);
  const bool chat = renderer.has_template();
  auto finished = [&](const Document& doc, const std::string& prediction, const std::vector<double>& lls) {
    const Json metrics = score_document(task, doc, prediction, lls);
    if (options.on_sample) options.on_sample(make_sample(task, doc, prediction, metrics));
    ++stats.documents;
    stats.images += int64_t(doc.images.size());
  };

  if (task.output_type == OutputType::MultipleChoice && !model.decoder()) {
    // A scoring model: each choice's text against the document's image through the scorer's retrieval
    // stages (the image encoded once); the scores stand in for log-likelihoods.
    check_runnable(model, task);
    Scorer* scorer = model.scorer();
    for (const Document* doc : documents) {
      if (doc->images.size() != 1)
        fail("{} document {}: a scoring model matches exactly one image with each choice, the document has {}",
             task.dataset.string(), doc->id, doc->images.size());
      const Image image = load_document_image(doc->images[0], doc->id);
      const auto images = scorer->encode_images(task.retrieval_method, std::span(&image, 1));
      const auto texts = scorer->encode_texts(task.retrieval_method, doc->choices);
      std::vector<const Encoding*> image_side(texts.size(), images[0].get()), text_side;
      for (const auto& t : texts) text_side.push_back(t.get());
      const Tensor scores = scorer->score_pairs(task.retrieval_method, image_side, text_side).to(DType::F32);
      const std::vector<double> values(scores.data<float>(), scores.data<float>() + scores.numel());
      const int64_t best = std::max_element(values.begin(), values.end()) - values.begin();
      finished(*doc, doc->choices[size_t(best)], values);
    }
    stats.seconds = seconds_since(start);
    return stats;
  }
  check_runnable(model, task);

  if (task.output_type == OutputType::MultipleChoice) {
    // Each choice's log-likelihood after the prompt (" " + choice, as lm-eval's target delimiter): the
    // tokens the full text has beyond the prompt's own.
    Processor& processor = model.processor();
    for (const Document* doc : documents) {
      const Prompt prompt = document_prompt(*doc, chat);
      const std::string context = renderer.render(prompt);
      Prompt raw = prompt;
      raw.messages = OrderedJson();
      raw.raw = context;
      const int64_t context_length = processor.prepare(std::span(&raw, 1)).at("input_ids").dim(1);
      std::vector<double> lls;
      for (const auto& choice : doc->choices) {
        raw.raw = context + " " + choice;
        const ModelInputs inputs = processor.prepare(std::span(&raw, 1));
        const int64_t continuation = inputs.at("input_ids").dim(1) - context_length;
        if (continuation <= 0) fail("document {}: choice '{}' adds no token to the prompt", doc->id, choice);
        double sum = 0;
        for (const double lp : score_continuation(model, inputs, continuation)) sum += lp;
        lls.push_back(sum);
      }
      const int64_t best = std::max_element(lls.begin(), lls.end()) - lls.begin();
      finished(*doc, doc->choices[size_t(best)], lls);
    }
    stats.seconds = seconds_since(start);
    return stats;
  }

  GeneratorOptions generator_options;
  generator_options.session.max_sequences = std::max<int64_t>(options.batch_size, 1);
  generator_options.image_cache = options.image_cache;
  const GenerationConfig config = task_generation(task, options.generation);
  if (options.max_length > 0) generator_options.session.max_length = options.max_length;
  generator_options.session.kv_dtype = options.kv_dtype;
  Generator generator(model, generator_options);
  std::map<SequenceId, const Document*> running;
  size_t next = 0;
  while (next < documents.size() || !generator.idle()) {
    while (next < documents.size() && generator.active() < generator_options.session.max_sequences) {
      const Document* doc = documents[next++];
      SequenceId sequence = 0;
      try {
        sequence = generator.admit(document_prompt(*doc, chat), config);
      } catch (const Error& e) {
        fail("{} document {}: {}", task.dataset.string(), doc->id, e.what());
      }
      const int64_t needed = int64_t(generator.request(sequence).prompt_ids.size()) + config.max_new_tokens;
      if (options.max_length > 0 && needed > options.max_length)
        fail("{} document {}: its prompt and max_new_tokens need {} positions, more than --max-length {}",
             task.dataset.string(), doc->id, needed, options.max_length);
      running[sequence] = doc;
    }
    for (const StepEvent& event : generator.step()) {
      if (event.finish_reason.empty()) continue;
      const RequestState& state = generator.request(event.sequence);
      stats.generated_tokens += int64_t(state.generated_ids.size());
      finished(*running.at(event.sequence), apply_filters(task, state.text), {});
      running.erase(event.sequence);
      generator.forget(event.sequence);
    }
  }
  stats.vision_ms = generator.vision_ms();
  stats.seconds = seconds_since(start);
  return stats;
}

}  // namespace vlm::eval
