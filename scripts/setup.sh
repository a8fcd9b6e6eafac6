#!/usr/bin/env bash
# Installs vlm's system dependencies (Debian packages) and builds it (Release) into ./build.
# Idempotent: packages already present are not reinstalled; a configured build is reused.
#   scripts/setup.sh [TARGET...]   build only these CMake targets (default: everything, tests included;
#                                  vlm_runtime = the vlm binary, core, backends and plugins)
#   BUILD_DIR=dir      build folder (default: build)
#   VLM_CMAKE_ARGS=... extra CMake arguments (e.g. -DVLM_WITH_CUDA=OFF)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/install_packages.sh

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libboost-dev libboost-program-options-dev   # Boost.DLL (plugin loading), Boost.Program_options (CLI)
  libdnnl-dev ocl-icd-opencl-dev              # oneDNN CPU kernels (Debian's build needs the OpenCL loader)
  libvips-dev                                 # image decoding and colour conversion
  libfmt-dev libspdlog-dev                    # formatting and logging
  nlohmann-json3-dev libyaml-cpp-dev          # JSON (HF configs, tokenizer.json) and YAML (configs/)
  libpcre2-dev libsentencepiece-dev           # tokenizer regexes and SentencePiece models
  libcpp-httplib-dev                          # vlm serve (HTTP server) and its remote image fetches
  libicu-dev                                  # Unicode normalization for tokenizers
  catch2                                      # tests
)

install_packages "${packages[@]}"

# The CUDA toolkit is not a Debian package here; it is used when nvcc is present (e.g. /usr/local/cuda).
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

BUILD_DIR="${BUILD_DIR:-build}"
jobs="$(nproc)"
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${VLM_CMAKE_ARGS:-} >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j "$jobs" "${targets[@]}"
echo "setup: built into $BUILD_DIR (vlm is $BUILD_DIR/bin/vlm)"
