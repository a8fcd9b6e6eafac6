#pragma once
// What every fuzz target shares. A vlm::Error is the expected answer to bad input; any other exception
// escapes LLVMFuzzerTestOneInput, aborts, and libFuzzer reports it as a finding (as it does a crash, a
// sanitizer report, a leak or a timeout).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "vlm/util/error.hpp"

namespace vlm::fuzz {

// A directory of this process's own under $TMPDIR (or /tmp), created on first use.
std::filesystem::path scratch_dir();
// Writes the input to `name` in scratch_dir() and returns its path (parsers that read files fuzzed as such).
std::filesystem::path write_scratch(std::string_view name, const uint8_t* data, size_t size);
// ../shared, or $VLM_SHARED: fixed inputs some targets need (real tokenizers, a tiny checkpoint).
std::filesystem::path shared_dir();

template <typename F>
void expect_errors(F&& run) {
  try {
    run();
  } catch (const vlm::Error&) {
  }
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace vlm::fuzz
