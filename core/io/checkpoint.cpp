#include "vlm/io/checkpoint.hpp"

#include <algorithm>
#include <set>

#include "vlm/model/tensor_spec.hpp"
#include "vlm/util/error.hpp"

namespace vlm {
namespace fs = std::filesystem;

namespace {

ConfigView load_optional(const fs::path& path) {
  if (!fs::exists(path)) return ConfigView();
  return ConfigView::load(path);
}

std::vector<fs::path> weight_files(const fs::path& dir, std::map<std::string, std::string>* weight_map) {
  const auto index_path = dir / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    const ConfigView index = ConfigView::load(index_path);
    if (!index.json().contains("weight_map") || !index.json()["weight_map"].is_object())
      fail("{}: missing the weight_map object", index_path.string());
    std::set<std::string> names;
    for (auto it = index.json()["weight_map"].begin(); it != index.json()["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail("{}: weight_map.{} is not a file name", index_path.string(), it.key());
      const auto file = it.value().get<std::string>();
      if (file.find('/') != std::string::npos || file == "..")
        fail("{}: weight_map.{} names a file outside the checkpoint: {}", index_path.string(), it.key(), file);
      names.insert(file);
      (*weight_map)[it.key()] = file;
    }
    std::vector<fs::path> files;
    for (const auto& name : names) {
      if (!fs::exists(dir / name)) fail("{}: shard {} is listed but missing", index_path.string(), name);
      files.push_back(dir / name);
    }
    return files;
  }
  if (fs::exists(dir / "model.safetensors")) return {dir / "model.safetensors"};
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir))
    if (item.path().extension() == ".safetensors") files.push_back(item.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    const bool has_bin = fs::exists(dir / "pytorch_model.bin") || fs::exists(dir / "pytorch_model.bin.index.json");
    fail("{}: no model.safetensors{}", dir.string(),
         has_bin ? " (only PyTorch .bin weights, which vlm does not read: convert them to safetensors)" : "");
  }
  return files;
}

}  // namespace

std::shared_ptr<const Checkpoint> Checkpoint::open(const fs::path& dir) {
  if (!fs::is_directory(dir)) fail("{}: not a checkpoint directory", dir.string());
  auto ckpt = std::make_shared<Checkpoint>();
  ckpt->dir_ = dir;
  const auto config_path = dir / "config.json";
  if (!fs::exists(config_path)) fail("{}: no config.json", dir.string());
  ckpt->config_ = ConfigView::load(config_path);
  ckpt->generation_config_ = load_optional(dir / "generation_config.json");
  ckpt->preprocessor_config_ = load_optional(dir / "preprocessor_config.json");

  std::map<std::string, std::string> weight_map;
  for (const auto& file : weight_files(dir, &weight_map)) ckpt->files_.push_back(SafetensorsFile::open(file));
  for (size_t f = 0; f < ckpt->files_.size(); ++f) {
    for (const auto& info : ckpt->files_[f]->tensors()) {
      auto [it, inserted] = ckpt->index_.emplace(info.name, std::make_pair(f, &info));
      if (!inserted)
        fail("{}: tensor '{}' appears in both {} and {}", dir.string(), info.name,
             ckpt->files_[it->second.first]->path().filename().string(),
             ckpt->files_[f]->path().filename().string());
    }
  }
  for (const auto& [name, file] : weight_map) {
    auto it = ckpt->index_.find(name);
    if (it == ckpt->index_.end())
      fail("model.safetensors.index.json lists tensor '{}' in {}, but that file does not hold it", name, file);
    if (ckpt->files_[it->second.first]->path().filename() != file)
      fail("model.safetensors.index.json places tensor '{}' in {}, but it is in {}", name, file,
           ckpt->files_[it->second.first]->path().filename().string());
  }
  return ckpt;
}

std::string Checkpoint::model_type() const { return config_.get<std::string>("model_type"); }

bool Checkpoint::has_tensor(const std::string& name) const { return index_.count(name) != 0; }

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.second;
}

std::string Checkpoint::file_of(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? std::string() : files_[it->second.first]->path().filename().string();
}

Tensor Checkpoint::tensor(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail("{}: missing tensor '{}'", dir_.string(), name);
  return files_[it->second.first]->tensor(name);
}

Tensor Checkpoint::tensor(const std::string& name, const Shape& expected) const {
  Tensor t = tensor(name);
  if (!(t.shape() == expected))
    fail("{}: tensor '{}': shape {}, expected {}", file_of(name), name, t.shape().str(), expected.str());
  return t;
}

std::vector<const TensorInfo*> Checkpoint::tensors() const {
  std::vector<const TensorInfo*> out;
  for (const auto& [name, entry] : index_) out.push_back(entry.second);
  return out;
}

std::vector<std::string> Checkpoint::validate(const std::vector<TensorSpec>& expected) const {
  std::vector<std::string> problems;
  std::set<std::string> known;
  for (const auto& spec : expected) {
    known.insert(spec.name);
    const TensorInfo* info = find(spec.name);
    if (!info) {
      if (!spec.optional) problems.push_back(fmt::format("missing tensor '{}' (expected shape {})", spec.name, spec.shape.str()));
      continue;
    }
    if (!(info->shape == spec.shape))
      problems.push_back(fmt::format("{}: tensor '{}': shape {}, expected {}", file_of(spec.name), spec.name,
                                     info->shape.str(), spec.shape.str()));
    else if (!is_float(info->dtype))
      problems.push_back(fmt::format("{}: tensor '{}': dtype {}, expected a floating-point dtype",
                                     file_of(spec.name), spec.name, dtype_name(info->dtype)));
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, entry] : index_)
    if (!known.count(name)) unexpected.push_back(name);
  if (!problems.empty()) {
    std::string message = fmt::format("{}: checkpoint does not match its config.json ({} problem{}):", dir_.string(),
                                      problems.size(), problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) message += "\n  " + p;
    if (!unexpected.empty()) {
      message += fmt::format("\n  and {} unexpected tensor(s), e.g. '{}'", unexpected.size(), unexpected.front());
    }
    throw Error(message);
  }
  return unexpected;
}

}  // namespace vlm
