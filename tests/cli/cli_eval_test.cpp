// `vlm eval` end to end on the shipped demo benchmark (configs/eval/shapes*): metrics on known
// predictions, the checks that refuse a task before it runs, a run on a tiny synthetic checkpoint killed
// with SIGKILL and resumed (every document exactly once, the same results as an uninterrupted run), and
// sharding with merge.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli_support.hpp"

namespace {

const fs::path kEval = fs::path(VLM_SOURCE_DIR) / "configs" / "eval";

std::vector<ordered_json> jsonl(const fs::path& file) {
  std::vector<ordered_json> lines;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(ordered_json::parse(line));
  return lines;
}

std::vector<ordered_json> shapes() { return jsonl(kEval / "shapes" / "shapes.jsonl"); }

// Predictions in the samples.jsonl format.
fs::path write_predictions(const fs::path& dir, const std::function<std::string(const ordered_json&)>& predict) {
  std::string text;
  for (const auto& d : shapes())
    text += ordered_json{{"doc_id", d["question_id"]}, {"prediction", predict(d)}}.dump() + "\n";
  write_file(dir / "predictions.jsonl", text);
  return dir / "predictions.jsonl";
}

double metric(const ordered_json& results, const char* name) { return results["metrics"][name]["value"].get<double>(); }

// A copy of the demo task over `copies` repetitions of its documents (a run long enough to interrupt).
fs::path long_task(const fs::path& dir, int copies, int new_tokens) {
  std::string docs;
  for (int c = 0; c < copies; ++c)
    for (const auto& d : shapes()) docs += d.dump() + "\n";
  write_file(dir / "docs.jsonl", docs);
  write_file(dir / "long.yaml", fmt::format(R"(task: long_vqa
dataset: {{path: docs.jsonl, image_root: {}}}
doc_to_visual: [image]
doc_to_text: "{{{{ question }}}}"
doc_to_target: answers
generation_kwargs: {{max_new_tokens: {}, temperature: 0}}
metric_list: [{{metric: vqa_accuracy}}, {{metric: anls}}]
)",
                                            (kEval / "shapes" / "images").string(), new_tokens));
  return dir / "long.yaml";
}

}  // namespace

TEST_CASE("vlm eval --predictions scores like lmms-eval on known predictions", "[cli][eval]") {
  const auto dir = vlm::test::temp_dir("cli-eval-predictions");
  const std::string task = (kEval / "shapes_vqa.yaml").string();
  // The majority answer of each document (6 or more of its 10 annotators) scores 1 everywhere.
  auto right = run_vlm({"eval", task, "--predictions", write_predictions(dir, [](const auto& d) { return d["answer"]; }).string(),
                        "--output", (dir / "right").string()});
  INFO(right.err);
  REQUIRE(right.exit_code == 0);
  const auto results = ordered_json::parse(read_file(dir / "right" / "shapes_vqa" / "results.json"));
  CHECK(metric(results, "vqa_accuracy") == 1.0);
  CHECK(metric(results, "exact_match") == 1.0);
  CHECK(metric(results, "anls") == 1.0);
  CHECK_THAT(right.out, Catch::Contains("vqa_accuracy"));
  CHECK(jsonl(dir / "right" / "shapes_vqa" / "samples.jsonl").size() == 30);
  // Right on even documents only: 15 of 30; the standard error of a mean of 15 ones and 15 zeros is
  // sqrt(0.25 * 30 / 29) / sqrt(30).
  auto half = run_vlm({"eval", task, "--predictions",
                       write_predictions(dir, [](const auto& d) { return d["question_id"].template get<int>() % 2 ? "purple" : d["answer"].template get<std::string>(); }).string(),
                       "--output", (dir / "half").string()});
  REQUIRE(half.exit_code == 0);
  const auto h = ordered_json::parse(read_file(dir / "half" / "shapes_vqa" / "results.json"));
  CHECK(metric(h, "exact_match") == 0.5);
  CHECK(std::abs(h["metrics"]["exact_match"]["stderr"].get<double>() - std::sqrt(0.25 * 30 / 29) / std::sqrt(30.0)) < 1e-12);
  // VQA answer normalisation: "Two", "2 " and "the 2" are all "2".
  auto normalised = run_vlm({"eval", task, "--predictions",
                             write_predictions(dir, [](const auto& d) { return "the " + d["answer"].template get<std::string>() + "."; }).string(),
                             "--output", (dir / "norm").string()});
  REQUIRE(normalised.exit_code == 0);
  const auto n = ordered_json::parse(read_file(dir / "norm" / "shapes_vqa" / "results.json"));
  CHECK(metric(n, "vqa_accuracy") == 1.0);
  CHECK(metric(n, "exact_match") == 0.0);

  // Letters extracted from free text.
  auto letters = run_vlm({"eval", (kEval / "shapes_letter.yaml").string(), "--predictions",
                          write_predictions(dir, [](const auto& d) { return std::string("The answer is ") + "ABCD"[d["shape_index"].template get<int>()] + "."; }).string()});
  INFO(letters.err);
  REQUIRE(letters.exit_code == 0);
  CHECK_THAT(letters.out, Catch::Contains("multiple_choice_accuracy") && Catch::Contains("1.0000"));
  // A missing document is an error, not a silently smaller denominator.
  write_file(dir / "short.jsonl", "{\"doc_id\": 0, \"prediction\": \"1\"}\n");
  auto missing = run_vlm({"eval", task, "--predictions", (dir / "short.jsonl").string()});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("no prediction for document 1"));
}

TEST_CASE("vlm eval refuses a bad task before anything runs, naming file and line or document", "[cli][eval]") {
  const auto dir = vlm::test::temp_dir("cli-eval-bad");
  fs::copy(kEval / "shapes", dir / "shapes", fs::copy_options::recursive);
  const std::string good = read_file(kEval / "shapes_vqa.yaml");
  struct Case {
    std::string yaml, message;
  };
  std::string unknown = good;
  unknown.replace(unknown.find("output_type"), 11, "output_typ");
  std::string missing_field = good;
  missing_field.replace(missing_field.find("{{ question }}"), 14, "{{ questoin }}");
  std::string bad_metric = good;
  bad_metric.replace(bad_metric.find("metric: anls"), 12, "metric: bleu");
  std::string bad_target = good;
  bad_target.replace(bad_target.find("doc_to_target: answers"), 22, "doc_to_target: answer_list");
  const std::vector<Case> cases = {
      {unknown, "task.yaml:8: unknown key 'output_typ'"},
      {missing_field, "(document 0): doc_to_text"},
      {bad_metric, "unknown metric 'bleu'"},
      {bad_target, "(document 0): no field 'answer_list'"},
      {"task: [unclosed", "task.yaml:1"},
      {good + "metric_list: []\n", "key 'metric_list' appears twice"},
      {std::string(200, '[') + std::string(200, ']'), "task.yaml"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    write_file(dir / "task.yaml", c.yaml);
    const auto r = run_vlm({"eval", (dir / "task.yaml").string(), "--model", "/nonexistent-model"});
    CHECK(r.exit_code != 0);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(c.message));
    CHECK_THAT(r.err, !Catch::Contains("nonexistent-model"));  // the task failed before the model loaded
  }
  // A document naming an image that is not there.
  std::string docs = read_file(dir / "shapes" / "shapes.jsonl");
  docs.replace(docs.find("shapes_03.png"), 13, "shapes_99.png");
  write_file(dir / "shapes" / "shapes.jsonl", docs);
  write_file(dir / "task.yaml", good);
  const auto r = run_vlm({"eval", (dir / "task.yaml").string(), "--model", "/nonexistent-model"});
  CHECK_THAT(r.err, Catch::Contains("shapes.jsonl:4 (document 3): image") && Catch::Contains("shapes_99.png"));
  for (const char* device : {"/dev/zero", "/tmp"}) {
    const auto d = run_vlm({"eval", device, "--model", "/nonexistent-model"});
    CHECK(d.exit_code != 0);
    CHECK_THAT(d.err, Catch::Contains("not a regular file"));
  }
}

TEST_CASE("vlm eval killed with SIGKILL resumes to the results of an uninterrupted run", "[cli][eval][model]") {
  const auto dir = vlm::test::temp_dir("cli-eval-resume");
  const fs::path task = long_task(dir, 10, 24);  // 300 documents
  const std::string model = tiny_qwen2_vl().string();
  const auto whole = run_vlm({"eval", task.string(), "--model", model, "--output", (dir / "whole").string()});
  INFO(whole.err);
  REQUIRE(whole.exit_code == 0);

  // Start the same run, kill it once a few documents are logged.
  const fs::path samples = dir / "cut" / "long_vqa" / "samples.jsonl";
  const std::string command = shell_quote(VLM_BINARY) + " eval " + shell_quote(task.string()) + " --model " +
                              shell_quote(model) + " --output " + shell_quote((dir / "cut").string()) +
                              " >/dev/null 2>&1 & echo $!";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  int pid = 0;
  REQUIRE(std::fscanf(pipe, "%d", &pid) == 1);
  pclose(pipe);
  for (int i = 0; i < 2000 && (!fs::exists(samples) || jsonl(samples).size() < 3); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const size_t logged = fs::exists(samples) ? jsonl(samples).size() : 0;
  INFO("killed after " << logged << " documents");
  REQUIRE(logged >= 3);
  REQUIRE(logged < 300);  // it was killed mid-run
  // As if the kill had landed mid-write: a torn last line.
  {
    std::ofstream(samples, std::ios::app | std::ios::binary) << "{\"doc_id\": 99, \"prompt\": \"How ma";
  }
  const auto resumed = run_vlm({"eval", task.string(), "--model", model, "--output", (dir / "cut").string()});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Catch::Contains("torn last line"));
  const auto a = jsonl(dir / "whole" / "long_vqa" / "samples.jsonl"), b = jsonl(samples);
  REQUIRE(b.size() == 300);
  std::map<int64_t, ordered_json> by_id;
  for (const auto& s : b) CHECK(by_id.emplace(s["doc_id"].get<int64_t>(), s).second);  // each exactly once
  for (const auto& s : a) CHECK(by_id.at(s["doc_id"].get<int64_t>()) == s);             // and the same
  const auto ra = ordered_json::parse(read_file(dir / "whole" / "long_vqa" / "results.json"));
  const auto rb = ordered_json::parse(read_file(dir / "cut" / "long_vqa" / "results.json"));
  CHECK(ra["metrics"] == rb["metrics"]);
  // Resuming a finished run runs nothing; another configuration into the same folder is refused.
  const auto again = run_vlm({"eval", task.string(), "--model", model, "--output", (dir / "cut").string()});
  REQUIRE(again.exit_code == 0);
  CHECK(jsonl(samples).size() == 300);
  const auto other = run_vlm({"eval", task.string(), "--model", model, "--output", (dir / "cut").string(), "--limit", "5"});
  CHECK(other.exit_code != 0);
  CHECK_THAT(other.err, Catch::Contains("run.json: this folder holds a run with limit = 0, not 5"));
}

TEST_CASE("vlm eval shards merge into the unsharded results; merge refuses gaps and overlaps", "[cli][eval][model]") {
  const auto dir = vlm::test::temp_dir("cli-eval-shards");
  const std::string model = tiny_qwen2_vl().string(), task = (kEval / "shapes_vqa.yaml").string();
  const auto whole = run_vlm({"eval", task, "--model", model, "--limit", "10", "--batch-size", "4", "--output", (dir / "whole").string()});
  REQUIRE(whole.exit_code == 0);
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    const auto r = run_vlm({"eval", task, "--model", model, "--limit", "10", "--batch-size", "4", "--shard", shard, "--output",
                            (dir / (std::string("s") + shard[0])).string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  CHECK(jsonl(dir / "s1" / "shapes_vqa" / "samples.jsonl").size() == 3);  // ids 1, 4, 7
  const auto merged = run_vlm({"eval", "merge", (dir / "s0").string(), (dir / "s1").string(), (dir / "s2").string(),
                               "--output", (dir / "merged").string()});
  INFO(merged.err);
  REQUIRE(merged.exit_code == 0);
  const auto rw = ordered_json::parse(read_file(dir / "whole" / "shapes_vqa" / "results.json"));
  const auto rm = ordered_json::parse(read_file(dir / "merged" / "shapes_vqa" / "results.json"));
  CHECK(rw["metrics"] == rm["metrics"]);
  CHECK(jsonl(dir / "merged" / "shapes_vqa" / "samples.jsonl").size() == 10);
  const auto gap = run_vlm({"eval", "merge", (dir / "s0").string(), (dir / "s2").string(), "--output", (dir / "m2").string()});
  CHECK(gap.exit_code != 0);
  CHECK_THAT(gap.err, Catch::Contains("shard 1/3 is missing"));
  const auto twice = run_vlm({"eval", "merge", (dir / "s0").string(), (dir / "s0").string(), "--output", (dir / "m3").string()});
  CHECK(twice.exit_code != 0);
  CHECK_THAT(twice.err, Catch::Contains("shard 0/3 is also in"));
  // --shard auto from a Slurm array's variables.
  ::setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  const auto slurm = run_vlm({"eval", task, "--model", model, "--limit", "10", "--shard", "auto", "--output", (dir / "slurm").string()});
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  ::unsetenv("SLURM_ARRAY_TASK_COUNT");
  REQUIRE(slurm.exit_code == 0);
  CHECK(ordered_json::parse(read_file(dir / "slurm" / "shapes_vqa" / "run.json"))["shard"] == "1/3");
}

TEST_CASE("vlm eval runs multiple-choice matching on a scoring model and refuses generation tasks", "[cli][eval][model]") {
  const auto dir = vlm::test::temp_dir("cli-eval-scorer");
  const auto synth = run_vlm({"synth", "--family", "bridgetower", "--size", "tiny", "--out", (dir / "bt").string()});
  REQUIRE(synth.exit_code == 0);
  for (const char* method : {"itm", "itc"}) {
    std::string yaml = read_file(kEval / "shapes_match.yaml");
    yaml.replace(yaml.find("retrieval_method: itm"), 21, std::string("retrieval_method: ") + method);
    fs::create_directories(dir / method);
    fs::copy(kEval / "shapes", dir / method / "shapes", fs::copy_options::recursive);
    write_file(dir / method / "match.yaml", yaml);
    const auto r = run_vlm({"eval", (dir / method / "match.yaml").string(), "--model", (dir / "bt").string(), "--limit", "6",
                            "--output", (dir / method / "out").string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto samples = jsonl(dir / method / "out" / "shapes_match" / "samples.jsonl");
    REQUIRE(samples.size() == 6);
    const std::set<std::string> shapes = {"circle", "square", "triangle", "diamond"};
    for (const auto& s : samples) CHECK(shapes.count(s["prediction"].get<std::string>()));
  }
  const auto generate = run_vlm({"eval", (kEval / "shapes_vqa.yaml").string(), "--model", (dir / "bt").string(), "--output",
                                 (dir / "refused").string()});
  CHECK(generate.exit_code != 0);
  CHECK_THAT(generate.err, Catch::Contains("generates text, and this model has no decoder"));
  CHECK_FALSE(fs::exists(dir / "refused"));
}

TEST_CASE("vlm eval takes images as data: URIs and checks them before the run", "[cli][eval][model]") {
  const auto dir = vlm::test::temp_dir("cli-eval-data-uri");
  const std::string png = read_file(kEval / "shapes" / "images" / "shapes_00.png");
  auto task = [&](const std::string& uri) {
    write_file(dir / "d.jsonl", ordered_json{{"image", uri}, {"question", "How many?"}, {"answer", "1"}}.dump() + "\n");
    write_file(dir / "t.yaml", "task: uri\ndataset: {path: d.jsonl}\ndoc_to_visual: [image]\ndoc_to_text: \"{{ question }}\"\n"
                               "doc_to_target: answer\ngeneration_kwargs: {max_new_tokens: 4}\nmetric_list: [{metric: exact_match}]\n");
    return (dir / "t.yaml").string();
  };
  const auto good = run_vlm({"eval", task("data:image/png;base64," + base64(png)), "--model", tiny_qwen2_vl().string(),
                             "--output", (dir / "out").string()});
  INFO(good.err);
  CHECK(good.exit_code == 0);
  CHECK(jsonl(dir / "out" / "uri" / "samples.jsonl").size() == 1);
  const auto bad = run_vlm({"eval", task("data:image/png;base64," + base64("not a png")), "--model", "/nonexistent-model"});
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("d.jsonl:1 (document 0): image: data: URI: cannot read image"));
  const auto plain = run_vlm({"eval", task("data:image/png,rawbytes"), "--model", "/nonexistent-model"});
  CHECK_THAT(plain.err, Catch::Contains("only base64 data: URIs"));
}
