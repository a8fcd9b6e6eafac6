#pragma once
// What an evaluation writes, and how a run survives a crash and spreads over machines:
//   DIR/<task>/run.json        the run's identity (task file hash, model, shard, documents), written once;
//                              a later run into the same folder must match it (resume) or is refused
//   DIR/<task>/samples.jsonl   one line per finished document, appended and fsync'ed as it finishes; on
//                              resume a torn last line (a crash mid-write) is cut off and its document
//                              runs again, so every document ends up there exactly once
//   DIR/<task>/results.json    the aggregates, written when every document of the shard is in
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "vlm/eval/task.hpp"
#include "vlm/io/config.hpp"

namespace vlm::eval {

// A deterministic 1/count of the documents: those whose id % count == index.
struct Shard {
  int64_t index = 0, count = 1;
  bool contains(int64_t doc_id) const { return doc_id % count == index; }
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};
// "I/N", or "auto": Slurm arrays (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT; an array that does not
// start at 0 is shifted by SLURM_ARRAY_TASK_MIN) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with
// `count` from --shard-count). `env` looks a variable up (getenv by default).
Shard parse_shard(const std::string& text, std::optional<int64_t> count = std::nullopt,
                  const std::function<std::optional<std::string>(const char*)>& env = {});

class SampleLog {
 public:
  // Reads `file` when it exists (a torn last line is removed from the file), then appends to it.
  explicit SampleLog(std::filesystem::path file);
  ~SampleLog();
  SampleLog(const SampleLog&) = delete;
  SampleLog& operator=(const SampleLog&) = delete;
  const std::map<int64_t, OrderedJson>& samples() const { return samples_; }
  bool has(int64_t doc_id) const { return samples_.count(doc_id) != 0; }
  // One line (the sample must hold an integer doc_id not logged yet), written and fsync'ed.
  void append(const OrderedJson& sample);
  int64_t torn_bytes_dropped() const { return torn_; }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  std::map<int64_t, OrderedJson> samples_;
  int64_t torn_ = 0;
};

// The samples of a finished log, read only (merge): a torn or damaged line is an Error.
std::map<int64_t, OrderedJson> read_samples(const std::filesystem::path& file);

// run.json: written when absent; otherwise it must equal `identity` (the keys that decide the results),
// else an Error naming the first key that differs.
void claim_run(const std::filesystem::path& task_dir, const OrderedJson& identity);
OrderedJson read_run(const std::filesystem::path& task_dir);

// Each metric's mean and standard error over `samples` (their "metrics" objects), in the task's order.
OrderedJson aggregate(const Task& task, const std::map<int64_t, OrderedJson>& samples);

// Writes `value` to `file` atomically (a temporary, fsync, rename).
void write_json_atomically(const std::filesystem::path& file, const OrderedJson& value);

}  // namespace vlm::eval
