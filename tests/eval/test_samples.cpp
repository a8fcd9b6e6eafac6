// The pieces behind resuming and sharding: shard selection (explicit, Slurm arrays, Kubernetes Indexed
// Jobs), the sample log's repair of a torn last line and refusal of other damage, run identity checks,
// and CSV datasets.
#include <fstream>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/eval/samples.hpp"
#include "vlm/util/error.hpp"

using namespace vlm;
using namespace vlm::eval;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("shards: explicit, Slurm array and Kubernetes Indexed Job", "[eval][shard]") {
  const Shard s = parse_shard("2/5");
  CHECK(s.index == 2);
  CHECK(s.count == 5);
  CHECK(s.contains(7));
  CHECK_FALSE(s.contains(8));
  std::map<std::string, std::string> env;
  auto lookup = [&](const char* name) -> std::optional<std::string> {
    if (auto it = env.find(name); it != env.end()) return it->second;
    return std::nullopt;
  };
  env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}};  // --array=1-4
  CHECK(parse_shard("auto", std::nullopt, lookup).str() == "3/4");
  env = {{"JOB_COMPLETION_INDEX", "0"}};
  CHECK(parse_shard("auto", 8, lookup).str() == "0/8");
  CHECK_THROWS_WITH(parse_shard("auto", std::nullopt, lookup), Catch::Contains("needs --shard-count"));
  env.clear();
  CHECK_THROWS_WITH(parse_shard("auto", std::nullopt, lookup), Catch::Contains("neither SLURM_ARRAY_TASK_ID"));
  CHECK_THROWS_WITH(parse_shard("3/3"), Catch::Contains("not below the shard count"));
  CHECK_THROWS_WITH(parse_shard("1-3"), Catch::Contains("I/N"));
  CHECK_THROWS_WITH(parse_shard("a/3"), Catch::Contains("integer"));
}

TEST_CASE("the sample log cuts a torn last line and refuses any other damage", "[eval][samples]") {
  const fs::path dir = test::temp_dir("eval-samples");
  const fs::path file = dir / "samples.jsonl";
  {
    SampleLog log(file);
    log.append({{"doc_id", 0}, {"prediction", "a"}});
    log.append({{"doc_id", 2}, {"prediction", "b"}});
    CHECK_THROWS_WITH(log.append({{"doc_id", 2}}), Catch::Contains("already logged"));
  }
  std::ofstream(file, std::ios::app) << "{\"doc_id\": 5, \"predic";
  {
    SampleLog log(file);
    CHECK(log.samples().size() == 2);
    CHECK(log.torn_bytes_dropped() == 21);
    CHECK(read(file).back() == '\n');
    log.append({{"doc_id", 5}, {"prediction", "c"}});
  }
  CHECK(SampleLog(file).samples().size() == 3);
  write(file, "{\"doc_id\": 0}\nnot json\n{\"doc_id\": 1}\n");
  CHECK_THROWS_WITH(SampleLog(file), Catch::Contains("samples.jsonl:2: not a sample line"));
  write(file, "{\"doc_id\": 0}\n{\"doc_id\": 0}\n");
  CHECK_THROWS_WITH(SampleLog(file), Catch::Contains("logged twice"));
}

TEST_CASE("a run folder belongs to one configuration", "[eval][samples]") {
  const fs::path dir = test::temp_dir("eval-claim") / "task";
  claim_run(dir, {{"task", "t"}, {"limit", 0}});
  CHECK_NOTHROW(claim_run(dir, {{"task", "t"}, {"limit", 0}}));
  CHECK_THROWS_WITH(claim_run(dir, {{"task", "t"}, {"limit", 3}}), Catch::Contains("limit = 0, not 3"));
}

TEST_CASE("CSV datasets: quoted fields, JSON-list cells, field counts checked", "[eval][task]") {
  const fs::path dir = test::temp_dir("eval-csv");
  write(dir / "data.csv", "question,answers\n\"What, exactly?\",\"[\"\"a\"\", \"\"b\"\"]\"\r\n\"multi\nline\",plain\n");
  write(dir / "task.yaml",
        "task: csv\ndataset: {path: data.csv}\ndoc_to_text: \"{{ question }}\"\ndoc_to_target: answers\n"
        "metric_list: [{metric: exact_match}]\n");
  const Task task = load_task(dir / "task.yaml");
  const auto docs = load_documents(task);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].prompt == "What, exactly?");
  CHECK(docs[0].targets == std::vector<std::string>{"a", "b"});
  CHECK(docs[1].prompt == "multi\nline");
  CHECK(docs[1].targets == std::vector<std::string>{"plain"});
  write(dir / "data.csv", "question,answers\nonly one field\n");
  CHECK_THROWS_WITH(load_documents(task), Catch::Contains("data.csv:2: 1 fields, the header has 2"));
}

TEST_CASE("filters: strip, first line, lowercase and lm-eval's regex filter", "[eval][task]") {
  const fs::path dir = test::temp_dir("eval-filters");
  write(dir / "d.jsonl", "{\"q\": \"x\", \"a\": \"y\"}\n");
  write(dir / "task.yaml",
        "task: f\ndataset: {path: d.jsonl}\ndoc_to_text: \"{{ q }}\"\ndoc_to_target: a\n"
        "filters: [strip, first_line, {regex: \"answer is (\\\\w+)|final: (\\\\w+)\", select: -1}, lowercase]\n"
        "metric_list: [{metric: exact_match}]\n");
  const Task task = load_task(dir / "task.yaml");
  CHECK(apply_filters(task, "  The answer is Blue, final: GREEN\nignored") == "green");
  CHECK(apply_filters(task, "nothing here") == "[invalid]");
  write(dir / "bad.yaml",
        "task: f\ndataset: {path: d.jsonl}\ndoc_to_text: x\ndoc_to_target: a\nfilters: [{regex: \"(\"}]\n"
        "metric_list: [{metric: exact_match}]\n");
  CHECK_THROWS_WITH(load_task(dir / "bad.yaml"), Catch::Contains("bad.yaml:5") && Catch::Contains("invalid regex"));
}
