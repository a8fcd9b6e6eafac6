#include "vlm/eval/samples.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "vlm/io/atomic_file.hpp"
#include "vlm/util/error.hpp"

namespace vlm::eval {

namespace fs = std::filesystem;

namespace {

int64_t parse_count(const std::string& text, const char* what, int64_t lo) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < lo) fail("{} must be an integer >= {}, got '{}'", what, lo, text);
  return v;
}

void write_all(int fd, const std::string& bytes, const fs::path& file) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: cannot write: {}", file.string(), std::strerror(errno));
    }
    done += size_t(n);
  }
}

}  // namespace

Shard parse_shard(const std::string& text, std::optional<int64_t> count,
                  const std::function<std::optional<std::string>(const char*)>& env_lookup) {
  auto env = [&](const char* name) -> std::optional<std::string> {
    if (env_lookup) return env_lookup(name);
    if (const char* v = std::getenv(name)) return std::string(v);
    return std::nullopt;
  };
  Shard s;
  if (text == "auto") {
    if (const auto id = env("SLURM_ARRAY_TASK_ID")) {
      const auto n = env("SLURM_ARRAY_TASK_COUNT");
      if (!n) fail("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
      const int64_t min = env("SLURM_ARRAY_TASK_MIN") ? parse_count(*env("SLURM_ARRAY_TASK_MIN"), "SLURM_ARRAY_TASK_MIN", 0) : 0;
      s.index = parse_count(*id, "SLURM_ARRAY_TASK_ID", 0) - min;
      s.count = parse_count(*n, "SLURM_ARRAY_TASK_COUNT", 1);
    } else if (const auto index = env("JOB_COMPLETION_INDEX")) {
      if (!count) fail("--shard auto in a Kubernetes Indexed Job needs --shard-count (the Job's completions)");
      s.index = parse_count(*index, "JOB_COMPLETION_INDEX", 0);
      s.count = *count;
    } else {
      fail("--shard auto: neither SLURM_ARRAY_TASK_ID (Slurm array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) "
           "is set");
    }
  } else {
    const size_t slash = text.find('/');
    if (slash == std::string::npos) fail("--shard must be I/N (e.g. 0/4) or auto, got '{}'", text);
    s.index = parse_count(text.substr(0, slash), "the shard index", 0);
    s.count = parse_count(text.substr(slash + 1), "the shard count", 1);
  }
  if (s.index >= s.count) fail("shard index {} is not below the shard count {}", s.index, s.count);
  return s;
}

SampleLog::SampleLog(fs::path file) : file_(std::move(file)) {
  std::error_code error;
  const bool existed = fs::exists(file_, error);
  if (existed) {
    if (!fs::is_regular_file(file_, error)) fail("{}: not a regular file", file_.string());
    std::ifstream in(file_, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string text = bytes.str();
    size_t good_end = 0;  // the end of the last complete, valid line
    int line_number = 0;
    for (size_t start = 0; start < text.size();) {
      const size_t newline = text.find('\n', start);
      ++line_number;
      const bool complete = newline != std::string::npos;
      const std::string line = text.substr(start, (complete ? newline : text.size()) - start);
      OrderedJson sample;
      bool valid = true;
      try {
        sample = OrderedJson::parse(line);
      } catch (const std::exception&) {
        valid = false;
      }
      valid = valid && sample.is_object() && sample.contains("doc_id") && sample["doc_id"].is_number_integer();
      // Lines are written whole with their newline in one write(), so a crash leaves at most a last line
      // without its newline: that one is dropped. A complete line that is not a sample is damage.
      if (!complete) break;
      if (!valid)
        fail("{}:{}: not a sample line (the log is damaged; only a torn last line is repaired)", file_.string(),
             line_number);
      const int64_t id = sample["doc_id"].get<int64_t>();
      if (!samples_.emplace(id, std::move(sample)).second)
        fail("{}:{}: document {} is logged twice", file_.string(), line_number, id);
      good_end = newline + 1;
      start = newline + 1;
    }
    if (good_end < text.size()) {
      torn_ = int64_t(text.size() - good_end);
      fs::resize_file(file_, good_end, error);
      if (error) fail("{}: cannot cut the torn last line: {}", file_.string(), error.message());
    }
  }
  fd_ = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot open for appending: {}", file_.string(), std::strerror(errno));
  if (!existed) fsync_directory(file_.parent_path());
}

SampleLog::~SampleLog() {
  if (fd_ >= 0) ::close(fd_);
}

void SampleLog::append(const OrderedJson& sample) {
  if (!sample.contains("doc_id") || !sample["doc_id"].is_number_integer()) fail("a sample needs an integer doc_id");
  const int64_t id = sample["doc_id"].get<int64_t>();
  if (samples_.count(id)) fail("{}: document {} is already logged", file_.string(), id);
  // One write() of the whole line: a crash leaves at most this line torn.
  write_all(fd_, sample.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n", file_);
  if (::fsync(fd_) != 0) fail("{}: fsync failed: {}", file_.string(), std::strerror(errno));
  samples_.emplace(id, sample);
}

std::map<int64_t, OrderedJson> read_samples(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open", file.string());
  std::map<int64_t, OrderedJson> samples;
  int line_number = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++line_number;
    OrderedJson sample;
    try {
      sample = OrderedJson::parse(line);
    } catch (const std::exception&) {
      fail("{}:{}: not a sample line (an unfinished or damaged run: resume it first)", file.string(), line_number);
    }
    if (!sample.is_object() || !sample.contains("doc_id") || !sample["doc_id"].is_number_integer())
      fail("{}:{}: not a sample line", file.string(), line_number);
    const int64_t id = sample["doc_id"].get<int64_t>();
    if (!samples.emplace(id, std::move(sample)).second)
      fail("{}:{}: document {} is logged twice", file.string(), line_number, id);
  }
  if (in.bad()) fail("{}: read error", file.string());
  return samples;
}

void write_json_atomically(const fs::path& file, const OrderedJson& value) {
  write_text_atomically(file, value.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n", Durability::Sync);
}

OrderedJson read_run(const fs::path& task_dir) {
  const fs::path file = task_dir / "run.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: no run.json (not an evaluation output folder)", task_dir.string());
  try {
    return OrderedJson::parse(in);
  } catch (const std::exception& e) {
    fail("{}: invalid JSON: {}", file.string(), e.what());
  }
}

void claim_run(const fs::path& task_dir, const OrderedJson& identity) {
  std::error_code error;
  fs::create_directories(task_dir, error);
  if (error) fail("{}: cannot create: {}", task_dir.string(), error.message());
  if (!fs::exists(task_dir / "run.json")) {
    write_json_atomically(task_dir / "run.json", identity);
    return;
  }
  const OrderedJson existing = read_run(task_dir);
  for (const auto& [key, value] : identity.items())
    if (!existing.contains(key) || existing[key] != value)
      fail("{}: this folder holds a run with {} = {}, not {}: give another --output, or the same settings to resume",
           (task_dir / "run.json").string(), key, existing.contains(key) ? existing[key].dump() : "(none)", value.dump());
}

OrderedJson aggregate(const Task& task, const std::map<int64_t, OrderedJson>& samples) {
  OrderedJson out = OrderedJson::object();
  for (const auto& m : task.metrics) {
    std::vector<double> values;
    for (const auto& [id, s] : samples) {
      if (!s.contains("metrics") || !s["metrics"].contains(m.name) || !s["metrics"][m.name].is_number())
        fail("document {}: no value for metric '{}'", id, m.name);
      values.push_back(s["metrics"][m.name].get<double>());
    }
    const Aggregate a = mean_with_stderr(values);
    out[m.name] = {{"value", a.value}, {"stderr", a.stderr_value ? OrderedJson(*a.stderr_value) : OrderedJson()},
                   {"documents", a.count}};
  }
  return out;
}

}  // namespace vlm::eval
