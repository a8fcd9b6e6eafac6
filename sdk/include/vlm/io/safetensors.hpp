#pragma once
// Memory-mapped safetensors files. The header is validated completely before any tensor is handed out:
// offsets inside the data section, no overlaps, byte size == shape x dtype, known dtypes. Tensors are
// borrowed views of the mapping in their stored dtype; the mapping lives as long as any view does.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vlm/tensor/tensor.hpp"

namespace vlm {

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t nbytes = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`. Any defect is an Error naming the file (and tensor, where there is one).
  static std::shared_ptr<const SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();

  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  Tensor tensor(const std::string& name) const;  // borrowed view; Error if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::weak_ptr<const SafetensorsFile> self_;
};

// Streams a safetensors file: the header is written from `entries` first, then `produce(i)` is called
// for each entry in order and must return a host tensor of that entry's shape and dtype. Large
// checkpoints never need to be in memory at once. Written to a temporary beside `path` and renamed into
// place at the end (vlm/io/atomic_file.hpp).
struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
};
void write_safetensors_streamed(const std::filesystem::path& path, const std::vector<SafetensorsEntry>& entries,
                                const std::function<Tensor(size_t)>& produce,
                                const std::map<std::string, std::string>& metadata = {});

// Writes tensors (host, any dtype) as one safetensors file, in the given order, with optional metadata.
// Used by `vlm synth`, `--dump` and tests. Writes to a temporary name and renames, so a crash never leaves a
// half-written file under the final name.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vlm
