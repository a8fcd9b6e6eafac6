#!/usr/bin/env bash
# Sets up (dependencies + build) and runs the whole test suite through CTest, then the reliability stage:
# the suite again under ASan + UBSan in a clang build, a LeakSanitizer check, and every fuzz target for
# 30 s (scripts/sanitize.sh). VLM_SANITIZE_STAGE=0 leaves that stage out (it is CI's second half).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
if [ "${VLM_SANITIZE_STAGE:-1}" != 0 ]; then
  BUILD_DIR=build-fuzz scripts/sanitize.sh 30
fi
