#pragma once
// Evaluation task files (YAML, lmms-eval's vocabulary; docs/EVAL.md) and their documents. Everything is
// checked before a run starts: a task file with an unknown key or a bad value is an Error naming the file
// and line; a document without a field the task reads, or naming an image file that is not there, is an
// Error naming the dataset file and the document index.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vlm/eval/metrics.hpp"
#include "vlm/io/config.hpp"
#include "vlm/text/chat_template.hpp"

namespace vlm::eval {

enum class OutputType { GenerateUntil, MultipleChoice };

struct Filter {
  enum class Kind { Strip, FirstLine, Lowercase, Regex };
  Kind kind = Kind::Strip;
  std::string pattern;  // Regex: the first match (its group `group`, 0 = the whole match) replaces the text
  int group = 0;
  std::string fallback;  // Regex: the text when nothing matches ("[invalid]" as in lmms-eval)
};

struct MetricSpec {
  std::string name;  // exact_match, vqa_accuracy, anls, relaxed_accuracy, multiple_choice_accuracy
  ExactMatchOptions exact_match;
  double threshold = 0.5;   // anls
  double tolerance = 0.05;  // relaxed_accuracy
};

struct Task {
  std::string name;
  std::filesystem::path file;  // the YAML
  std::string file_hash;       // FNV-1a 64 of the YAML's bytes, hex: results and shards name the exact file
  std::filesystem::path dataset, image_root;
  std::vector<std::string> doc_to_visual;  // fields naming image files (relative to image_root) or data: URIs
  std::string doc_to_text_source;
  std::shared_ptr<const ChatTemplate> doc_to_text;
  std::string doc_to_target;  // a field: a string, a number, or a list of strings
  OutputType output_type = OutputType::GenerateUntil;
  std::string doc_to_choice;  // a field holding the list of choices (multiple_choice, or letters' texts)
  // multiple_choice on a scoring model (BridgeTower): the Scorer's retrieval method ranking each choice's
  // text against the document's image ("itm" or "itc").
  std::string retrieval_method = "itm";
  Json generation_kwargs = Json::object();  // as written (max_new_tokens, temperature, until, ...)
  std::vector<Filter> filters;
  std::vector<MetricSpec> metrics;
};

Task load_task(const std::filesystem::path& yaml);

// One document made ready to run: what a model sees and what it is scored against.
struct Document {
  int64_t id = 0;  // 0-based position in the dataset file
  OrderedJson fields;
  std::string prompt;                  // doc_to_text rendered
  std::vector<std::string> images;     // resolved paths or data: URIs, in doc_to_visual order
  std::vector<std::string> targets;    // doc_to_target as strings (one unless a list)
  std::vector<std::string> choices;    // doc_to_choice, when the task has it
  int64_t gold = -1;                   // multiple choice: index of the right choice
};

// The dataset's documents (JSON Lines: one object per non-blank line; CSV: a header row, then one row
// per document), each rendered and checked.
std::vector<Document> load_documents(const Task& task);

// Applies the task's filters to a raw prediction.
std::string apply_filters(const Task& task, const std::string& prediction);

// The document's per-document metric values for `prediction` (after filters); for multiple_choice,
// `loglikelihoods` of each choice (prediction is then the chosen choice).
Json score_document(const Task& task, const Document& doc, const std::string& prediction,
                    const std::vector<double>& loglikelihoods = {});

// Option letters A, B, ... for `count` choices.
std::vector<std::string> choice_letters(size_t count);

}  // namespace vlm::eval
