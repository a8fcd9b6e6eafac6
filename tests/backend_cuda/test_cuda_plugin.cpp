// The library loads, speaks this SDK's ABI, and tells the truth about the device. Runs with or without a GPU:
// the expected verdict comes from asking the CUDA runtime directly.
#include <dlfcn.h>

#include <algorithm>
#include <cstring>

#include <catch2/catch.hpp>
#include <cuda_runtime_api.h>

#include "vlm/backend/backend_plugin.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/util/error.hpp"

namespace {

using Catch::Matchers::Contains;

vlm::registry::BackendEntry cuda_entry() {
  const auto entries = vlm::registry::discover_backends();
  const auto it = std::find_if(entries.begin(), entries.end(), [](const auto& e) { return e.name == "cuda"; });
  REQUIRE(it != entries.end());
  return *it;
}

const VlmBackendPluginInfo* plugin_info(const std::filesystem::path& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);  // never closed, like the registry's
  INFO("dlopen: " << (handle ? "" : dlerror()));
  REQUIRE(handle);
  auto entry = reinterpret_cast<VlmBackendPluginInfoFn>(dlsym(handle, VLM_BACKEND_PLUGIN_SYMBOL));
  REQUIRE(entry);
  return entry();
}

}  // namespace

TEST_CASE("cuda plugin: entry point reports this SDK's ABI and the cuda name", "[cuda][plugin]") {
  const auto entry = cuda_entry();
  const VlmBackendPluginInfo* info = plugin_info(entry.library);
  REQUIRE(info);
  CHECK(info->struct_size == sizeof(VlmBackendPluginInfo));
  CHECK(info->abi_version == VLM_SDK_ABI_VERSION);
  CHECK(std::string(info->name) == "cuda");
  CHECK(std::string(info->description) == entry.description);
  CHECK(info->create);
  CHECK(info->destroy);
}

TEST_CASE("cuda plugin: score matches what the CUDA runtime says about this machine", "[cuda][plugin]") {
  const auto entry = cuda_entry();
  INFO("registry status: " << entry.status);
  int devices = 0;
  const cudaError_t count_status = cudaGetDeviceCount(&devices);
  if (count_status != cudaSuccess || devices == 0) {
    // No usable device here: score 0, and a reason that names CUDA and the runtime's own error.
    CHECK(entry.score == 0);
    CHECK_FALSE(entry.usable());
    CHECK_THAT(entry.status, Contains("no CUDA device"));
    if (count_status != cudaSuccess) CHECK_THAT(entry.status, Contains(cudaGetErrorString(count_status)));
    CHECK_THROWS_WITH(vlm::registry::create_backend("cuda"),
                      Contains("backend 'cuda' is not usable here") && Contains(entry.status));
  } else if (entry.usable()) {
    CHECK(entry.score == 100);
    CHECK(entry.status == "usable");
  } else {
    // A device exists but this build has no kernels for it (older than the built architectures).
    CHECK_THAT(entry.status, Contains("cannot run this build's kernels"));
  }
}

TEST_CASE("cuda plugin: score() writes a NUL-terminated reason that fits the buffer", "[cuda][plugin]") {
  const auto entry = cuda_entry();
  const VlmBackendPluginInfo* info = plugin_info(entry.library);
  char reason[512];
  std::memset(reason, 'x', sizeof(reason));
  const int score = info->score(reason, sizeof(reason));
  CHECK(score == entry.score);
  if (score > 0) return;
  CHECK(std::string(reason) == entry.status);
  char small[8];
  std::memset(small, 'x', sizeof(small));
  CHECK(info->score(small, sizeof(small)) == 0);
  CHECK(std::strlen(small) == sizeof(small) - 1);
  CHECK(std::string(small) == entry.status.substr(0, sizeof(small) - 1));
}
