// Evaluation task YAML and dataset lines. The first byte picks what the rest is: a task YAML (run against
// a fixed JSON Lines dataset), a JSON Lines dataset, or a CSV dataset (both run under a fixed task with
// regex filters and every metric). Loaded documents are filtered and scored against their own prompt.
#include <fstream>

#include "fuzz_support.hpp"
#include "vlm/eval/task.hpp"

namespace {

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

constexpr std::string_view kTask = R"yaml(task: fuzz
dataset: {path: DATASET, image_root: .}
doc_to_visual: [image]
doc_to_text: "{{ question }} {% for c in choices %}{{ c }} {% endfor %}"
doc_to_target: answers
output_type: generate_until
generation_kwargs: {max_new_tokens: 4, until: ["\n"]}
filters: [strip, first_line, lowercase, {regex: "([0-9]+|yes|no)", group: 1, fallback: "[invalid]"}]
metric_list:
  - metric: vqa_accuracy
  - metric: exact_match
    ignore_case: true
    ignore_punctuation: true
  - metric: anls
    threshold: 0.5
  - metric: relaxed_accuracy
)yaml";

std::string task_for(const char* dataset) {
  std::string task(kTask);
  task.replace(task.find("DATASET"), 7, dataset);
  return task;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  namespace fs = std::filesystem;
  const auto dir = vlm::fuzz::scratch_dir();
  fs::copy_file(vlm::fuzz::shared_dir() / "fixtures" / "qwen2_vl" / "inputs" / "image_multi_a.png", dir / "image.png",
                fs::copy_options::overwrite_existing);
  write_text(dir / "fixed.jsonl",
             R"({"question": "How many?", "image": "image.png", "answers": ["2", "two"], "choices": ["a", "b"]})"
             "\n"
             R"({"question": "Is it red?", "image": "image.png", "answers": "yes", "choices": []})"
             "\n");
  write_text(dir / "jsonl_task.yaml", task_for("data.jsonl"));
  write_text(dir / "csv_task.yaml", task_for("data.csv"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto dir = vlm::fuzz::scratch_dir();
  std::filesystem::path yaml;
  switch (data[0] % 3) {
    case 0: yaml = vlm::fuzz::write_scratch("task.yaml", data + 1, size - 1); break;
    case 1: vlm::fuzz::write_scratch("data.jsonl", data + 1, size - 1), yaml = dir / "jsonl_task.yaml"; break;
    default: vlm::fuzz::write_scratch("data.csv", data + 1, size - 1), yaml = dir / "csv_task.yaml"; break;
  }
  vlm::fuzz::expect_errors([&] {
    const vlm::eval::Task task = vlm::eval::load_task(yaml);
    for (const vlm::eval::Document& doc : vlm::eval::load_documents(task)) {
      const std::string prediction = vlm::eval::apply_filters(task, doc.prompt);
      if (task.output_type == vlm::eval::OutputType::MultipleChoice)
        (void)vlm::eval::score_document(task, doc, prediction, std::vector<double>(doc.choices.size(), -1.0));
      else
        (void)vlm::eval::score_document(task, doc, prediction);
    }
  });
  return 0;
}
