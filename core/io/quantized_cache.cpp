#include "vlm/io/quantized_cache.hpp"

#include <chrono>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vlm/util/error.hpp"

namespace vlm {
namespace fs = std::filesystem;

namespace {

// Part of every fingerprint: bump it whenever quantize() would give other values for the same weights, so
// caches written by older builds are never mapped.
constexpr const char* kFormat = "vlm-quantized-1";
constexpr size_t kSampleBytes = 64 << 10;  // data hashed at each end of a weight file

struct Fnv1a {
  uint64_t h = 0xcbf29ce484222325ull;
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  }
  void text(const std::string& s) { bytes(s.data(), s.size() + 1); }  // with the terminator: no ambiguity
  void number(uint64_t v) { bytes(&v, sizeof v); }
};

std::string describe(const Tensor& t) { return fmt::format("{} {}", dtype_name(t.dtype()), t.shape().str()); }

uint64_t padded(uint64_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace

fs::path default_quantized_cache_dir() {
  if (const char* v = std::getenv("VLM_CACHE_DIR"); v && *v) return fs::path(v) / "quantized";
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return fs::path(v) / "vlm" / "quantized";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "vlm" / "quantized";
}

std::string checkpoint_fingerprint(const Checkpoint& checkpoint) {
  Fnv1a hash;
  hash.text(kFormat);
  for (const auto& file : checkpoint.files()) {
    std::error_code ec;
    hash.text(file->path().filename().string());
    hash.number(fs::file_size(file->path(), ec));
    hash.number(uint64_t(fs::last_write_time(file->path(), ec).time_since_epoch().count()));
    for (const TensorInfo& t : file->tensors()) {
      hash.text(t.name);
      hash.text(std::string(dtype_name(t.dtype)) + t.shape.str());
      hash.number(t.offset);
    }
    // Samples of the data: the first and the last tensor's ends.
    if (!file->tensors().empty()) {
      const Tensor first = file->tensor(file->tensors().front().name);
      const Tensor last = file->tensor(file->tensors().back().name);
      hash.bytes(first.raw(), std::min(first.nbytes(), kSampleBytes));
      const size_t tail = std::min(last.nbytes(), kSampleBytes);
      hash.bytes(static_cast<const uint8_t*>(last.raw()) + last.nbytes() - tail, tail);
    }
  }
  return fmt::format("{:016x}", hash.h);
}

QuantizedWeightCache::QuantizedWeightCache(const Checkpoint& checkpoint, Quantization quantization, fs::path dir)
    : quantization_(quantization), fingerprint_(checkpoint_fingerprint(checkpoint)) {
  quantized_dtype(quantization);  // None is an error
  if (dir.empty()) return;
  path_ = dir / fmt::format("{}-{}.safetensors", fingerprint_, quantization_name(quantization));
  std::error_code ec;
  if (!fs::exists(path_, ec)) return;
  try {
    auto file = SafetensorsFile::open(path_);
    const auto& meta = file->metadata();
    const auto value = [&](const char* key) {
      const auto it = meta.find(key);
      return it == meta.end() ? std::string() : it->second;
    };
    if (value("format") != kFormat || value("quantization") != quantization_name(quantization) ||
        value("fingerprint") != fingerprint_)
      spdlog::warn("{}: not a {} {} cache of this checkpoint; it will be replaced", path_.string(), kFormat,
                   quantization_name(quantization));
    else
      file_ = std::move(file);
  } catch (const std::exception& e) {
    spdlog::warn("quantized weight cache ignored and to be replaced: {}", e.what());
  }
}

Tensor QuantizedWeightCache::get(const std::string& matrix, const Tensor& source) {
  std::lock_guard lock(mutex_);
  // The source dtype is part of the key: a tied LM head converted by --dtype quantises to other values
  // than the stored table.
  const std::string name = fmt::format("{}@{}", matrix, dtype_name(source.dtype()));
  const DType dtype = quantized_dtype(quantization_);
  const std::string want = fmt::format("{} {}", dtype_name(dtype), source.shape().str());
  if (auto it = tensors_.find(name); it != tensors_.end()) {
    if (describe(it->second) != want)
      fail("quantized weights: '{}' was requested as {} and as {}", name, describe(it->second), want);
    return it->second;
  }
  Tensor out;
  if (file_) {
    const auto meta = file_->metadata().find(name);
    const TensorInfo* info = file_->find(name);
    if (meta != file_->metadata().end() && meta->second == want && info && info->dtype == DType::U8 &&
        info->nbytes == padded(storage_bytes(source.shape(), dtype))) {
      const Tensor bytes = file_->tensor(name);
      out = Tensor::borrow(const_cast<void*>(bytes.raw()), source.shape(), dtype, Device::cpu(), bytes.owner());
      ++stats_.mapped;
    }
  }
  if (!out.defined()) {
    const auto start = std::chrono::steady_clock::now();
    out = quantize(source, quantization_);
    stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++stats_.computed;
  }
  stats_.bytes += out.nbytes();
  tensors_.emplace(name, out);
  return out;
}

bool QuantizedWeightCache::save() {
  std::lock_guard lock(mutex_);
  if (path_.empty() || stats_.computed == 0) return false;
  // Everything this load uses, computed or mapped; entries of the old file this load did not ask for are
  // dropped (another family version may want them, and will recompute them).
  std::vector<SafetensorsEntry> entries;
  std::vector<const Tensor*> sources;
  std::map<std::string, std::string> metadata = {
      {"format", kFormat}, {"quantization", std::string(quantization_name(quantization_))},
      {"fingerprint", fingerprint_}};
  for (const auto& [name, t] : tensors_) {
    entries.push_back({name, DType::U8, Shape{int64_t(padded(t.nbytes()))}});
    sources.push_back(&t);
    metadata[name] = describe(t);
  }
  try {
    fs::create_directories(path_.parent_path());
    // Owned quantised tensors are allocated in whole 64-byte lines (Tensor::zeros) and mapped ones are
    // padded entries of the old file, so the padded view stays inside memory the tensor holds. The writer
    // renames a finished temporary into place, so concurrent loads never see a partial file.
    write_safetensors_streamed(path_, entries, [&](size_t i) {
      const Tensor& t = *sources[i];
      return Tensor::borrow(const_cast<void*>(t.raw()), entries[i].shape, DType::U8, Device::cpu(), t.owner());
    }, metadata);
  } catch (const std::exception& e) {
    spdlog::warn("quantized weights not cached (they are recomputed next time): {}", e.what());
    return false;
  }
  return true;
}

QuantizedWeightCache::Stats QuantizedWeightCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace vlm
