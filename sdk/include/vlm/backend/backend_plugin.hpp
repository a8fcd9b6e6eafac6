#pragma once
// The C-ABI entry point of a backend library. The loader dlopens libvlm_backend_*.so, calls
// vlm_backend_plugin_info(), checks abi_version, asks score() whether the backend is usable here, and
// only then calls create(). Backend libraries are never unloaded.
#include <cstdint>

#include "vlm/backend/backend.hpp"
#include "vlm/version.hpp"

extern "C" {

struct VlmBackendPluginInfo {
  uint32_t struct_size;  // sizeof(VlmBackendPluginInfo) the backend was built with
  uint32_t abi_version;  // VLM_SDK_ABI_VERSION the backend was built with
  const char* name;      // "cpu", "cuda"
  const char* description;
  // 0 = not usable on this machine (write the reason into `reason`, NUL-terminated, at most `reason_size`
  // bytes); higher = preferred when the user says --device auto.
  int (*score)(char* reason, uint32_t reason_size);
  vlm::Backend* (*create)(const vlm::BackendOptions* options);
  void (*destroy)(vlm::Backend* backend);
};

typedef const VlmBackendPluginInfo* (*VlmBackendPluginInfoFn)(void);
}

#define VLM_BACKEND_PLUGIN_SYMBOL "vlm_backend_plugin_info"

// Defines the entry point of a backend library. `ScoreFn` is `int(char*, uint32_t)`; `Class` has a
// constructor taking `const vlm::BackendOptions&`.
#define VLM_DEFINE_BACKEND_PLUGIN(Class, NAME, DESCRIPTION, ScoreFn)                                   \
  extern "C" __attribute__((visibility("default"))) const VlmBackendPluginInfo*                       \
  vlm_backend_plugin_info(void) {                                                                      \
    static const VlmBackendPluginInfo info = {                                                          \
        sizeof(VlmBackendPluginInfo), VLM_SDK_ABI_VERSION, NAME, DESCRIPTION, ScoreFn,                   \
        [](const vlm::BackendOptions* o) -> vlm::Backend* { return new Class(*o); },                     \
        [](vlm::Backend* b) { delete b; }};                                                             \
    return &info;                                                                                      \
  }
