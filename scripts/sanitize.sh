#!/usr/bin/env bash
# The reliability stage of the test command: a second build with clang under AddressSanitizer +
# UndefinedBehaviorSanitizer (and libFuzzer's coverage), in which
#   1. the whole ctest suite runs again (undefined behaviour aborts, so a test that meets it fails),
#   2. LeakSanitizer checks `vlm run` on a tiny synthetic checkpoint,
#   3. every fuzz target runs briefly on its seed corpus (scripts/fuzz.sh).
#   scripts/sanitize.sh [FUZZ_SECONDS_PER_TARGET]   default 30
#   BUILD_DIR=build-fuzz   the sanitizer build folder
# -O1 with line tables only: symbolised reports at a fraction of a debug build's compile and link time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/install_packages.sh
fuzz_seconds="${1:-30}"
export BUILD_DIR="${BUILD_DIR:-build-fuzz}"

packages=(clang libclang-rt-dev libomp-dev)  # clang, its sanitizer + libFuzzer runtimes, OpenMP for clang
install_packages "${packages[@]}"

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DVLM_FUZZ=ON -DVLM_WITH_CUDA=OFF >/dev/null
fi
start=$SECONDS
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "sanitize: built $BUILD_DIR in $((SECONDS - start)) s"

# Leaks are checked on `vlm run` below, where the process ends normally; in the suite the child processes
# some tests kill on purpose would report what they held.
start=$SECONDS
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 1500
echo "sanitize: the suite passed under ASan + UBSan in $((SECONDS - start)) s"

tiny="$BUILD_DIR/lsan-tiny-qwen2-vl"
ASAN_OPTIONS="detect_leaks=0" "$BUILD_DIR/bin/vlm" synth --family qwen2_vl --size tiny --out "$tiny" >/dev/null
image=()
shared="${VLM_SHARED:-../shared}"
[ -f "$shared/fixtures/qwen2_vl/inputs/image_single.png" ] && image=(--image "$shared/fixtures/qwen2_vl/inputs/image_single.png")
# One thread: LLVM 14's LeakSanitizer faults while stopping OpenMP worker threads in this build (clang's
# libomp beside the libgomp oneDNN brings), so the check runs the same code on the calling thread only.
OMP_NUM_THREADS=1 ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" "$BUILD_DIR/bin/vlm" run --model "$tiny" "${image[@]}" \
  --prompt "Describe" --greedy --max-new-tokens 4 --threads 1 >/dev/null
echo "sanitize: LeakSanitizer found no leak in vlm run"

scripts/fuzz.sh "$fuzz_seconds"
