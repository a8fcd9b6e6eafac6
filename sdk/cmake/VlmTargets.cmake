# Helpers shared by the in-tree build and by out-of-tree plugins (see CONTRIBUTING.md).

# Warnings for the project's own code.
function(vlm_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  if(VLM_NATIVE AND NOT DEFINED VLM_OUT_OF_TREE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
endfunction()

# vlm_add_model_plugin(NAME SOURCES...): a model-family plugin, a MODULE library named
# libvlm_plugin_<NAME>.so placed where the registry finds it.
function(vlm_add_model_plugin name)
  add_library(vlm_plugin_${name} MODULE ${ARGN})
  target_link_libraries(vlm_plugin_${name} PRIVATE vlm::core)
  set_target_properties(vlm_plugin_${name} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(VLM_PLUGIN_OUTPUT_DIR)  # in-tree: next to the host; out of tree: the caller's build folder
    set_target_properties(vlm_plugin_${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${VLM_PLUGIN_OUTPUT_DIR})
  endif()
  if(COMMAND vlm_warnings)
    vlm_warnings(vlm_plugin_${name})
  endif()
  if(TARGET vlm_runtime)  # in-tree only
    add_dependencies(vlm_runtime vlm_plugin_${name})
  endif()
  include(GNUInstallDirs)
  install(TARGETS vlm_plugin_${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/vlm/plugins)
endfunction()
