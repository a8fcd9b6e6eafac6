#!/usr/bin/env bash
# A third party's workflow, end to end: install the SDK, build sdk/examples/hello_family against the
# installed package only, drop it into VLM_PLUGIN_PATH, and use it from the unchanged host.
set -euo pipefail
build_dir="$1"; source_dir="$2"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/sdk/examples/hello_family" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
test -f "$work/build/libvlm_plugin_hello.so"
listing="$(VLM_PLUGIN_PATH="$work/build" "$work/prefix/bin/vlm" list)"
grep -q "hello .*1.0.0 .*model_type: hello" <<<"$listing" || { echo "plugin not listed:"; echo "$listing"; exit 1; }
VLM_PLUGIN_PATH="$work/build" "$work/prefix/bin/vlm" synth --family hello --out "$work/ckpt" >/dev/null
VLM_PLUGIN_PATH="$work/build" "$work/prefix/bin/vlm" info "$work/ckpt" | grep -q "validation: every expected tensor"
echo "out-of-tree plugin built, listed, synthesized and validated"
