#pragma once
// The C-ABI entry point of a model-family plugin. Third parties use only this macro:
//
//   class MyFamily : public vlm::ModelFamily { ... };
//   VLM_DEFINE_MODEL_PLUGIN(MyFamily, "my_family", "1.0.0", "My VLM family", "my_model_type")
//
// The loader dlopens the library, reads the versioned POD from vlm_model_plugin_info() without creating
// anything, refuses a different abi_version (naming both), and calls create() only to load a model.
// Plugin libraries are never unloaded, so objects they created may live until the process ends.
#include <cstdint>

#include "vlm/model/family.hpp"
#include "vlm/version.hpp"

extern "C" {

struct VlmModelPluginInfo {
  uint32_t struct_size;  // sizeof(VlmModelPluginInfo) when the plugin was built; lets the struct grow
  uint32_t abi_version;  // VLM_SDK_ABI_VERSION the plugin was built with
  const char* name;
  const char* version;
  const char* description;
  const char* const* model_types;  // config.json model_type values served
  uint32_t model_type_count;
  // Identifies the C++ standard library ABI (the component interfaces are C++ classes).
  const char* cxx_abi;
  vlm::ModelFamily* (*create)(void);
  void (*destroy)(vlm::ModelFamily*);
};

typedef const VlmModelPluginInfo* (*VlmModelPluginInfoFn)(void);
}

#define VLM_MODEL_PLUGIN_SYMBOL "vlm_model_plugin_info"

#define VLM_STRINGIFY_INNER(x) #x
#define VLM_STRINGIFY(x) VLM_STRINGIFY_INNER(x)
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define VLM_CXX_ABI "libstdc++/cxx11=" VLM_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define VLM_CXX_ABI "other"
#endif

#define VLM_DEFINE_MODEL_PLUGIN(Class, NAME, VERSION, DESCRIPTION, ...)                               \
  extern "C" __attribute__((visibility("default"))) const VlmModelPluginInfo*                       \
  vlm_model_plugin_info(void) {                                                                      \
    static const char* const types[] = {__VA_ARGS__};                                               \
    static const VlmModelPluginInfo info = {                                                          \
        sizeof(VlmModelPluginInfo), VLM_SDK_ABI_VERSION, NAME, VERSION, DESCRIPTION, types,           \
        uint32_t(sizeof(types) / sizeof(types[0])), VLM_CXX_ABI,                                     \
        []() -> vlm::ModelFamily* { return new Class(); },                                           \
        [](vlm::ModelFamily* f) { delete f; }};                                                      \
    return &info;                                                                                    \
  }
