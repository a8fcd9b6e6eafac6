// vlm_tokenizer_bench [shared_dir]: load time and single-threaded encode throughput of the reference
// tokenizers on a ~1 MB mixed-language text built deterministically from the reference corpus.
// scripts/bench_tokenizers_hf.py builds the same text and measures Hugging Face tokenizers on it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vlm/text/tokenizer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Reference texts of every reference/tokenization/*.jsonl (files in name order, first occurrence kept),
// drawn with a 64-bit LCG and joined by newlines until the text reaches 1,000,000 bytes.
std::string build_corpus(const std::filesystem::path& reference) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(reference / "tokenization"))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  std::set<std::string> seen;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::string text = nlohmann::json::parse(line)["text"];
      if (seen.insert(text).second) texts.push_back(std::move(text));
    }
  }
  if (texts.empty()) {
    std::fprintf(stderr, "no reference texts under %s\n", reference.c_str());
    std::exit(1);
  }
  std::string corpus;
  uint64_t state = 42;
  while (corpus.size() < 1000000) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    corpus += texts[(state >> 33) % texts.size()];
    corpus += '\n';
  }
  return corpus;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path shared = argc > 1 ? argv[1] : (std::getenv("VLM_SHARED") ? std::getenv("VLM_SHARED") : "../shared");
  const auto reference = shared / "reference";
  const std::string corpus = build_corpus(reference);
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < corpus.size();) {
    const std::size_t end = corpus.find('\n', start);
    lines.push_back(corpus.substr(start, end - start));
    start = end + 1;
  }
  std::printf("corpus: %zu bytes, %zu lines\n", corpus.size(), lines.size());
  std::printf("%-10s %9s %12s %12s %12s %10s\n", "tokenizer", "load s", "cold MB/s", "warm MB/s", "lines MB/s", "tokens");
  for (const char* name : {"qwen2_vl", "mllama", "t5"}) {
    auto start = Clock::now();
    const auto tokenizer = vlm::Tokenizer::load(reference / "tokenizers" / name);
    const double load = seconds_since(start);
    const double mb = double(corpus.size()) / 1e6;
    start = Clock::now();
    const auto ids = tokenizer->encode(corpus, false);
    const double cold = seconds_since(start);
    double warm = 1e9;
    for (int run = 0; run < 3; ++run) {
      start = Clock::now();
      tokenizer->encode(corpus, false);
      warm = std::min(warm, seconds_since(start));
    }
    double per_line = 1e9;
    for (int run = 0; run < 3; ++run) {
      start = Clock::now();
      for (const auto& line : lines) tokenizer->encode(line, false);
      per_line = std::min(per_line, seconds_since(start));
    }
    std::printf("%-10s %9.3f %12.1f %12.1f %12.1f %10zu\n", name, load, mb / cold, mb / warm, mb / per_line, ids.size());
  }
  return 0;
}
