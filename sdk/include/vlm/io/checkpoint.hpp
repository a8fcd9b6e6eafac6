#pragma once
// A Hugging Face checkpoint directory as downloaded: config.json, generation_config.json,
// preprocessor_config.json / processor_config.json, model.safetensors or sharded
// model-0000x-of-0000y.safetensors + model.safetensors.index.json, tokenizer files, chat template.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/io/safetensors.hpp"

namespace vlm {

struct TensorSpec;

class Checkpoint {
 public:
  // Opens the directory and maps every weight file. Errors name the directory or file.
  static std::shared_ptr<const Checkpoint> open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const ConfigView& config() const { return config_; }
  // Absent files give empty views (file name "<absent ...>").
  const ConfigView& generation_config() const { return generation_config_; }
  const ConfigView& preprocessor_config() const { return preprocessor_config_; }
  std::string model_type() const;  // config.json "model_type"

  bool has_tensor(const std::string& name) const;
  const TensorInfo* find(const std::string& name) const;
  // Borrowed, memory-mapped view in the stored dtype. Error naming the tensor (and the files) if absent.
  Tensor tensor(const std::string& name) const;
  // Same, and checks the shape: Error "model.safetensors: tensor 'x': shape [2, 3], expected [3, 2]".
  Tensor tensor(const std::string& name, const Shape& expected) const;
  std::string file_of(const std::string& name) const;  // which file holds it
  std::vector<const TensorInfo*> tensors() const;      // every tensor of every shard, by name
  const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }

  // Compares the checkpoint with what a family expects: missing and wrong-shape (or wrong-dtype) tensors
  // are reported together in one Error; unexpected tensors are returned (callers log them, as HF warns).
  std::vector<std::string> validate(const std::vector<TensorSpec>& expected) const;

 private:
  std::filesystem::path dir_;
  ConfigView config_, generation_config_, preprocessor_config_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, const TensorInfo*>> index_;  // name -> (file, info)
};

}  // namespace vlm
