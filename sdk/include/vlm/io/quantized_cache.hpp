#pragma once
// The quantised matrices of one model load (`--quantize int8|int4`). Quantising a 2B model's language
// model takes seconds; so the result is kept in a cache file, one per checkpoint and quantisation,
// outside the checkpoint directory (which is never written): <cache dir>/<fingerprint>-<int8|int4>.safetensors.
// A later load maps that file and computes nothing. The fingerprint hashes every weight file's name,
// size, modification time, safetensors header and samples of its data, so a changed checkpoint gets a
// new file.
//
// The file is a plain safetensors file: each matrix is one U8 entry, named "<matrix>@<source dtype>",
// holding the quantised tensor's bytes (vlm/tensor/quantized.hpp) padded to 64 bytes, and the metadata
// records its dtype and shape ("q8 [N, K]") plus the format version, quantisation and fingerprint. An entry that does not match is
// ignored and computed again; a damaged file is a warning and is replaced.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vlm/io/checkpoint.hpp"
#include "vlm/tensor/quantized.hpp"

namespace vlm {

// $VLM_CACHE_DIR/quantized, else $XDG_CACHE_HOME/vlm/quantized, else ~/.cache/vlm/quantized.
std::filesystem::path default_quantized_cache_dir();

// 16 hex digits identifying the weights of `checkpoint` (see above).
std::string checkpoint_fingerprint(const Checkpoint& checkpoint);

class QuantizedWeightCache {
 public:
  // `dir`: where cache files live; an empty path keeps everything in memory (no file read or written).
  QuantizedWeightCache(const Checkpoint& checkpoint, Quantization quantization, std::filesystem::path dir);

  Quantization quantization() const { return quantization_; }
  // `source` (a host float [N, K] matrix: the checkpoint tensor `name`, or a view of one such as a tied
  // LM head) quantised: mapped from the cache file when it holds `name` with this dtype and shape, else
  // computed now.
  Tensor get(const std::string& matrix, const Tensor& source);
  // Writes the cache file when this load computed anything (to a temporary name, then renamed, so
  // concurrent loads and crashes never leave a partial file). A failure to write is a warning, not an
  // error: the model is loaded either way. Returns whether a file was written.
  bool save();

  struct Stats {
    int64_t mapped = 0, computed = 0;  // matrices read from the file / quantised by this load
    uint64_t bytes = 0;                // quantised bytes in use
    double seconds = 0;                // spent quantising
  };
  Stats stats() const;
  // The cache file (empty when there is none).
  const std::filesystem::path& path() const { return path_; }

 private:
  Quantization quantization_;
  std::string fingerprint_;
  std::filesystem::path path_;
  std::shared_ptr<const SafetensorsFile> file_;  // the existing cache file, if valid
  std::map<std::string, Tensor> tensors_;        // every matrix handed out, by name
  Stats stats_;
  mutable std::mutex mutex_;
};

}  // namespace vlm
