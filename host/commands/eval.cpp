// vlm eval: runs evaluation tasks (YAML, docs/EVAL.md) on a model, resumable after a crash, sharded over
// machines; `vlm eval merge` joins shard outputs; --predictions scores existing predictions without a
// model. The summary table goes to stdout; progress and logs to stderr.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../json_io.hpp"
#include "../options.hpp"
#include "../progress.hpp"
#include "vlm/eval/runner.hpp"
#include "vlm/eval/samples.hpp"
#include "vlm/io/atomic_file.hpp"
#include "vlm/generate/feature_cache.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/util/error.hpp"
#include "vlm/version.hpp"

namespace vlm::host {
namespace {

// A whole sample log written at once (predictions scored, shards merged): atomically, unlike the
// line-by-line log of a running evaluation, which resuming repairs.
void write_samples(const std::filesystem::path& file, const std::map<int64_t, OrderedJson>& samples) {
  std::string text;
  for (const auto& [id, s] : samples) text += s.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
  write_text_atomically(file, text, Durability::Sync);
}

namespace fs = std::filesystem;
using namespace vlm::eval;

struct LoadedTask {
  Task task;
  std::vector<Document> documents;
  std::vector<const Document*> selected;  // --limit, then --shard
};

LoadedTask load(const std::string& file, int64_t limit, const Shard& shard) {
  LoadedTask t{load_task(file), {}, {}};
  t.documents = load_documents(t.task);
  for (const Document& d : t.documents) {
    if (limit > 0 && d.id >= limit) break;
    if (shard.contains(d.id)) t.selected.push_back(&d);
  }
  return t;
}

void print_table(const std::vector<std::pair<std::string, OrderedJson>>& rows) {
  fmt::print("{:<24} {:<26} {:>10} {:>10} {:>8}\n", "task", "metric", "value", "stderr", "docs");
  for (const auto& [task, metrics] : rows)
    for (const auto& [name, m] : metrics.items())
      fmt::print("{:<24} {:<26} {:>10.4f} {:>10} {:>8}\n", task, name, m["value"].get<double>(),
                 m["stderr"].is_null() ? std::string("-") : fmt::format("{:.4f}", m["stderr"].get<double>()),
                 m["documents"].get<int64_t>());
}

// --predictions FILE: doc_id and prediction per line (the samples.jsonl format); multiple_choice tasks
// also need loglikelihoods (one per choice). Predictions are scored as given (no filters).
int score_predictions(const LoadedTask& t, const std::string& file, const po::variables_map& vm) {
  std::map<int64_t, const Document*> wanted;
  for (const Document* d : t.selected) wanted[d->id] = d;
  std::map<int64_t, OrderedJson> samples;
  for_each_jsonl_object(file, [&](const OrderedJson& line, const std::string& where) {
    if (!line.contains("doc_id") || !line["doc_id"].is_number_integer())
      fail("{}: no integer doc_id", where);
    const int64_t id = line["doc_id"].get<int64_t>();
    const auto it = wanted.find(id);
    if (it == wanted.end()) {
      if (id < 0 || id >= int64_t(t.documents.size()))
        fail("{}: doc_id {} is not a document of {} ({} documents)", where, id, t.task.dataset.string(), t.documents.size());
      return;  // outside --limit / --shard
    }
    if (samples.count(id)) fail("{}: doc_id {} appears twice", where, id);
    if (!line.contains("prediction") || !line["prediction"].is_string()) fail("{}: no string prediction", where);
    std::vector<double> lls;
    if (t.task.output_type == OutputType::MultipleChoice) {
      if (!line.contains("loglikelihoods") || !line["loglikelihoods"].is_array())
        fail("{}: a multiple_choice task needs loglikelihoods (one per choice)", where);
      for (const auto& v : line["loglikelihoods"]) {
        if (!v.is_number()) fail("{}: loglikelihoods must be numbers", where);
        lls.push_back(v.get<double>());
      }
    }
    const std::string prediction = line["prediction"].get<std::string>();
    samples[id] = make_sample(t.task, *it->second, prediction, score_document(t.task, *it->second, prediction, lls));
  });
  for (const auto& [id, doc] : wanted)
    if (!samples.count(id)) fail("{}: no prediction for document {}", file, id);
  const OrderedJson metrics = aggregate(t.task, samples);
  if (vm.count("output")) {
    const fs::path dir = fs::path(vm["output"].as<std::string>()) / t.task.name;
    fs::create_directories(dir);
    write_samples(dir / "samples.jsonl", samples);
    write_json_atomically(dir / "results.json", OrderedJson{{"task", t.task.name},
                                                            {"task_file_hash", t.task.file_hash},
                                                            {"predictions", file},
                                                            {"metrics", metrics},
                                                            {"vlm_version", VLM_VERSION_STRING}});
  }
  print_table({{t.task.name, metrics}});
  return 0;
}

int merge_command(const std::vector<std::string>& args) {
  po::options_description options("vlm eval merge");
  options.add_options()
      ("dirs", po::value<std::vector<std::string>>()->multitoken()->required(), "shard output folders")
      ("output,o", po::value<std::string>()->required(), "folder for the merged results");
  po::positional_options_description positional;
  positional.add("dirs", -1);
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm eval merge DIR... --output DIR", options, positional, vm)) return 0;
  // Task name -> (identity without the shard, samples, shards seen).
  struct Merged {
    OrderedJson identity;
    fs::path task_file;
    std::map<int64_t, OrderedJson> samples;
    std::map<int64_t, fs::path> shards;
    int64_t count = 0, documents = 0;
  };
  std::map<std::string, Merged> tasks;
  for (const auto& dir : vm["dirs"].as<std::vector<std::string>>()) {
    if (!fs::is_directory(dir)) fail("{}: not a folder", dir);
    bool any = false;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_directory() || !fs::exists(entry.path() / "run.json")) continue;
      any = true;
      OrderedJson identity = read_run(entry.path());
      const std::string name = identity.value("task", "");
      const auto shard = parse_shard(identity.value("shard", "0/1"));
      const int64_t documents = identity.value("documents_selected_total", int64_t(-1));
      // What may differ between shards: the shard, its document count, and where the task file sits on
      // each machine (its hash must agree).
      identity.erase("shard");
      identity.erase("documents");
      identity.erase("task_file");
      Merged& m = tasks[name];
      if (m.identity.is_null()) {
        m.identity = identity;
        m.count = shard.count;
        m.documents = documents;
        m.task_file = read_run(entry.path()).value("task_file", "");
      } else {
        for (const auto& [key, value] : identity.items())
          if (m.identity[key] != value)
            fail("{}: {} = {} differs from the other shards' {}", (entry.path() / "run.json").string(), key, value.dump(),
                 m.identity[key].dump());
        if (shard.count != m.count) fail("{}: shard {} of a run split {} ways", entry.path().string(), shard.str(), m.count);
      }
      if (m.shards.count(shard.index))
        fail("{}: shard {} is also in {}", entry.path().string(), shard.str(), m.shards[shard.index].string());
      m.shards[shard.index] = entry.path();
      for (const auto& [id, s] : read_samples(entry.path() / "samples.jsonl")) {
        if (!shard.contains(id)) fail("{}: document {} does not belong to shard {}", entry.path().string(), id, shard.str());
        if (!m.samples.emplace(id, s).second) fail("{}: document {} is in two shards", entry.path().string(), id);
      }
    }
    if (!any) fail("{}: no task folder with a run.json", dir);
  }
  const fs::path out = vm["output"].as<std::string>();
  std::vector<std::pair<std::string, OrderedJson>> rows;
  for (auto& [name, m] : tasks) {
    for (int64_t i = 0; i < m.count; ++i)
      if (!m.shards.count(i)) fail("task {}: shard {}/{} is missing", name, i, m.count);
    if (m.documents >= 0 && int64_t(m.samples.size()) != m.documents)
      fail("task {}: {} documents logged, the run has {} (a shard is unfinished)", name, m.samples.size(), m.documents);
    const Task task = load_task(m.task_file);
    if (task.file_hash != m.identity.value("task_file_hash", ""))
      fail("{}: the task file changed since the shards ran (hash {} now, {} then)", m.task_file.string(), task.file_hash,
           m.identity.value("task_file_hash", ""));
    const fs::path dir = out / name;
    OrderedJson identity = m.identity;
    identity["shard"] = "0/1";
    identity["documents"] = m.documents;
    claim_run(dir, identity);
    write_samples(dir / "samples.jsonl", m.samples);
    const OrderedJson metrics = aggregate(task, m.samples);
    OrderedJson results = identity;
    results["metrics"] = metrics;
    results["merged_from"] = OrderedJson::array();
    for (const auto& [i, p] : m.shards) results["merged_from"].push_back(p.string());
    write_json_atomically(dir / "results.json", results);
    rows.emplace_back(name, metrics);
  }
  print_table(rows);
  return 0;
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "merge") return merge_command({args.begin() + 1, args.end()});
  po::options_description options("vlm eval");
  add_model_options(options, false);
  options.add_options()
      ("tasks", po::value<std::vector<std::string>>()->multitoken(), "task files (YAML)")
      ("model,m", po::value<std::string>(), "named model, checkpoint directory or Hugging Face repo id")
      ("limit", value_between<int64_t>("limit", 0, kMaxCount)->default_value(0), "only the first N documents (0 = all)")
      ("batch-size", value_between<int64_t>("batch-size", 1, 256)->default_value(1),
       "documents generated at once (a new one joins as soon as one finishes)")
      ("output,o", po::value<std::string>(), "output folder (DIR/<task>/samples.jsonl, results.json); default vlm-eval")
      ("shard", po::value<std::string>()->default_value("0/1"), "I/N: documents with id % N == I; or auto (Slurm array, Kubernetes Indexed Job)")
      ("shard-count", value_between<int64_t>("shard-count", 1, kMaxCount), "shard count for --shard auto in a Kubernetes Indexed Job")
      ("predictions", po::value<std::string>(), "score these predictions (JSONL: doc_id, prediction) without a model")
      ("max-length", value_between<int64_t>("max-length", 16, kMaxCount)->default_value(4096),
       "positions reserved per document (prompt + generated; the KV cache of --batch-size documents is allocated up front)")
      ("image-cache-mb", value_between<int64_t>("image-cache-mb", 0, 1 << 20)->default_value(512),
       "image-feature cache for documents that share images (0 = off)");
  po::positional_options_description positional;
  positional.add("tasks", -1);
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm eval TASK.yaml... --model MODEL [--limit N] [--batch-size B] [--output DIR] [--shard I/N|auto]\n"
                     "       vlm eval TASK.yaml --predictions FILE.jsonl [--output DIR]\n"
                     "       vlm eval merge DIR... --output DIR",
                     options, positional, vm))
    return 0;
  if (!vm.count("tasks")) throw po::error("no task file given (vlm eval TASK.yaml... --model MODEL)");
  const Shard shard = parse_shard(vm["shard"].as<std::string>(),
                                  vm.count("shard-count") ? std::optional<int64_t>(vm["shard-count"].as<int64_t>()) : std::nullopt);
  const int64_t limit = vm["limit"].as<int64_t>();
  // Every task and document is checked before anything runs.
  std::vector<LoadedTask> tasks;
  for (const auto& file : vm["tasks"].as<std::vector<std::string>>()) tasks.push_back(load(file, limit, shard));
  for (size_t i = 0; i < tasks.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (tasks[i].task.name == tasks[j].task.name)
        fail("{} and {} are both task '{}'", tasks[j].task.file.string(), tasks[i].task.file.string(), tasks[i].task.name);
  if (vm.count("predictions")) {
    if (tasks.size() != 1) fail("--predictions scores one task; {} task files given", tasks.size());
    if (vm.count("model")) fail("--predictions scores without a model: drop --model");
    return score_predictions(tasks[0], vm["predictions"].as<std::string>(), vm);
  }
  if (!vm.count("model")) throw po::error("--model is required (or --predictions FILE to score without one)");

  registry::LoadRequest request = load_request(vm);
  auto loaded = registry::load_model(request);
  for (const LoadedTask& t : tasks) check_runnable(*loaded.model, t.task);
  const fs::path out = vm.count("output") ? fs::path(vm["output"].as<std::string>()) : fs::path("vlm-eval");
  std::unique_ptr<ImageFeatureCache> image_cache;
  if (const int64_t mb = vm["image-cache-mb"].as<int64_t>(); mb > 0)
    image_cache = std::make_unique<ImageFeatureCache>(size_t(mb) << 20, image_cache_key(loaded, request), *loaded.backend);
  GenerationConfig defaults = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                loaded.checkpoint->config());
  if (loaded.resolved.named) defaults.apply(loaded.resolved.named->generation);
  const std::string dtype = vm["dtype"].as<std::string>();

  std::vector<std::pair<std::string, OrderedJson>> rows;
  for (const LoadedTask& t : tasks) {
    const fs::path dir = out / t.task.name;
    int64_t selected_total = 0;  // the whole run's documents (every shard), for merge to check
    for (const Document& d : t.documents)
      if (limit <= 0 || d.id < limit) ++selected_total;
    const OrderedJson identity = {{"task", t.task.name},
                                  {"task_file", fs::absolute(t.task.file).string()},
                                  {"task_file_hash", t.task.file_hash},
                                  {"model", fs::absolute(loaded.resolved.dir).lexically_normal().string()},
                                  {"model_type", loaded.resolved.model_type},
                                  {"dtype", dtype},
                                  {"kv_dtype", vm["kv-dtype"].as<std::string>()},
                                  {"limit", limit},
                                  {"shard", shard.str()},
                                  {"documents", int64_t(t.selected.size())},
                                  {"documents_selected_total", selected_total}};
    claim_run(dir, identity);
    SampleLog log(dir / "samples.jsonl");
    if (log.torn_bytes_dropped() > 0)
      spdlog::warn("{}: dropped a torn last line ({} bytes) left by an interrupted run; its document runs again",
                   (dir / "samples.jsonl").string(), log.torn_bytes_dropped());
    std::vector<const Document*> todo;
    for (const Document* d : t.selected)
      if (!log.has(d->id)) todo.push_back(d);
    for (const auto& [id, s] : log.samples())
      if (!shard.contains(id) || (limit > 0 && id >= limit))
        fail("{}: document {} is not part of this run", (dir / "samples.jsonl").string(), id);
    if (todo.size() < t.selected.size())
      spdlog::info("{}: resuming: {} of {} documents already done", t.task.name, t.selected.size() - todo.size(), t.selected.size());
    int64_t done = int64_t(t.selected.size() - todo.size());
    Progress progress(t.task.name, int64_t(t.selected.size()), "docs", 10.0, done);
    RunOptions run;
    run.batch_size = vm["batch-size"].as<int64_t>();
    run.checkpoint_dir = loaded.checkpoint->dir();
    run.generation = defaults;
    run.image_cache = image_cache.get();
    run.max_length = vm["max-length"].as<int64_t>();
    run.kv_dtype = kv_dtype_option(vm);
    run.on_sample = [&](const OrderedJson& sample) {
      log.append(sample);
      progress.update(++done);
    };
    const RunStats stats = run_documents(*loaded.model, t.task, todo, run);
    progress.finish();
    OrderedJson results = identity;
    results["metrics"] = aggregate(t.task, log.samples());
    results["model_info"] = {{"path", identity["model"]},
                             {"family", loaded.resolved.plugin ? OrderedJson(loaded.resolved.plugin->name) : OrderedJson()},
                             {"dtype", dtype},
                             {"device", loaded.backend->name()}};
    results["vlm_version"] = VLM_VERSION_STRING;
    results["throughput"] = {
        {"documents_this_run", stats.documents},
        {"seconds", stats.seconds},
        {"documents_per_second", stats.seconds > 0 ? stats.documents / stats.seconds : 0.0},
        {"generated_tokens_per_second", stats.seconds > 0 ? stats.generated_tokens / stats.seconds : 0.0},
        {"vision_ms_per_image", stats.images > 0 ? stats.vision_ms / double(stats.images) : 0.0}};
    write_json_atomically(dir / "results.json", results);
    rows.emplace_back(t.task.name, results["metrics"]);
  }
  print_table(rows);
  return 0;
}

}  // namespace vlm::host
