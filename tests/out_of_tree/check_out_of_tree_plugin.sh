#!/usr/bin/env bash
# A third party's workflow, end to end: install the SDK, build the example family (sdk/examples/llava,
# LLaVA-1.5) against the installed package only, drop it into VLM_PLUGIN_PATH, and use it from the
# unchanged installed host: list it, write a tiny random checkpoint, validate it, and generate from an image.
set -euo pipefail
# check_out_of_tree_plugin.sh BUILD_DIR SOURCE_DIR [CXX_COMPILER [CXX_FLAGS]]: the host build's compiler and flags.
build_dir="$1"; source_dir="$2"; compiler="${3:-}"; flags="${4:-}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/sdk/examples/llava" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" ${compiler:+-DCMAKE_CXX_COMPILER="$compiler"} -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$work/build" >/dev/null
test -f "$work/build/libvlm_plugin_llava.so"
vlm() { VLM_PLUGIN_PATH="$work/build" "$work/prefix/bin/vlm" "$@"; }
listing="$(vlm list)"
grep -q "llava .*1.0.0 .*model_type: llava" <<<"$listing" || { echo "plugin not listed:"; echo "$listing"; exit 1; }
vlm synth --family llava --out "$work/ckpt" >/dev/null
vlm info "$work/ckpt" | grep -q "validation: every expected tensor" || { vlm info "$work/ckpt"; exit 1; }
# A 40x30 gradient as a binary PPM: no image tool needed.
{
  printf 'P6\n40 30\n255\n'
  for ((y = 0; y < 30; y++)); do for ((x = 0; x < 40; x++)); do
    printf "\\x$(printf %02x $((x * 6)))\\x$(printf %02x $((y * 8)))\\x60"
  done; done
} > "$work/image.ppm"
out="$(vlm run --model "$work/ckpt" --device cpu --image "$work/image.ppm" --prompt "Describe the picture." \
  --greedy --ignore-eos --max-new-tokens 4 --json)"
grep -q '"finish_reason": "length"' <<<"$out" || { echo "unexpected run output:"; echo "$out"; exit 1; }
count="$(tr -d ' \n' <<<"$out" | grep -o '"generated_ids":\[[0-9,]*\]' | tr -cd ',' | wc -c)"
[ "$count" -eq 3 ] || { echo "expected 4 generated ids:"; echo "$out"; exit 1; }
echo "out-of-tree llava plugin built, listed, synthesized, validated and run"
