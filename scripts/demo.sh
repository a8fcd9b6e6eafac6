#!/usr/bin/env bash
# The main job on a fresh machine: set up, write a tiny random Qwen2-VL checkpoint, and run it on an image.
# The weights are random, so the text is meaningless; point --model at a real checkpoint for real answers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh vlm_runtime   # only what the demo runs; scripts/test.sh builds the tests
BUILD_DIR="${BUILD_DIR:-build}"
vlm="$BUILD_DIR/bin/vlm"
mkdir -p models
"$vlm" synth --family qwen2_vl --size tiny --out models/tiny-qwen2-vl --force
# A 64x48 gradient picture, written as a binary PPM so no extra tool is needed.
{
  printf 'P6\n64 48\n255\n'
  for ((y = 0; y < 48; y++)); do for ((x = 0; x < 64; x++)); do
    printf "\\x$(printf %02x $((x * 4)))\\x$(printf %02x $((y * 5)))\\x80"
  done; done
} > models/demo.ppm
echo "demo: random weights, so the text below is meaningless; use --model with a real checkpoint for real answers" >&2
"$vlm" run --model models/tiny-qwen2-vl --image models/demo.ppm --prompt "Describe this image." --max-new-tokens 16
