#include "vlm/registry/shared_library.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include "vlm/util/error.hpp"

namespace vlm::registry {

struct SharedLibrary::Impl {
  boost::dll::shared_library library;
};

SharedLibrary::SharedLibrary(const std::filesystem::path& path) : path_(path), impl_(new Impl) {
  boost::dll::fs::error_code ec;
  // rtld_local: two plugins may carry symbols of the same name without clashing.
  impl_->library.load(boost::dll::fs::path(path.string()),
                      boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* reason = ::dlerror();  // Boost.DLL keeps only a generic error code; dlerror says why
    delete impl_;
    impl_ = nullptr;
    fail("cannot load {}: {}", path.string(), reason ? reason : ec.message());
  }
}

SharedLibrary& SharedLibrary::open(const std::filesystem::path& path) {
  static std::mutex mutex;
  static auto* loaded = new std::map<std::filesystem::path, std::unique_ptr<SharedLibrary>>();  // never freed
  std::lock_guard lock(mutex);
  const auto key = std::filesystem::weakly_canonical(path);
  auto it = loaded->find(key);
  if (it == loaded->end())
    it = loaded->emplace(key, std::unique_ptr<SharedLibrary>(new SharedLibrary(key))).first;
  return *it->second;
}

bool SharedLibrary::has(const std::string& symbol) const { return impl_->library.has(symbol); }

void* SharedLibrary::symbol(const std::string& name) const {
  if (!impl_->library.has(name)) fail("{} does not export {}", path_.string(), name);
  return reinterpret_cast<void*>(&impl_->library.get<void()>(name));
}

}  // namespace vlm::registry
