#pragma once
// Loads shared libraries and keeps them loaded for the life of the process: objects created by a plugin
// or backend (vtables, code) must never outlive its library, and no safe point to unload exists.
#include <filesystem>
#include <string>

namespace vlm::registry {

class SharedLibrary {
 public:
  // Loads (or returns the already-loaded) library. Error with the loader's message when it cannot.
  static SharedLibrary& open(const std::filesystem::path& path);
  const std::filesystem::path& path() const { return path_; }
  bool has(const std::string& symbol) const;
  // Address of a function symbol; Error naming the library when absent.
  void* symbol(const std::string& name) const;

  template <typename Fn>
  Fn function(const std::string& name) const {
    return reinterpret_cast<Fn>(symbol(name));
  }

 private:
  explicit SharedLibrary(const std::filesystem::path& path);
  std::filesystem::path path_;
  struct Impl;
  Impl* impl_;  // intentionally leaked: libraries are never unloaded
};

}  // namespace vlm::registry
