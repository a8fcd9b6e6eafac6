#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/: clang, ASan + UBSan, coverage) and runs each on its corpus.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 60 s each, every target
#   BUILD_DIR=build-fuzz   the clang build (configured here when absent; it also runs the test suite)
#   FUZZ_CORPUS=DIR        corpora, one folder per target; they grow across runs (default $BUILD_DIR/fuzz-corpus)
#   FUZZ_WORKERS=N         processes per target (default 1)
# Seeds come from ../shared (or $VLM_SHARED: fixtures, reference tokenizers and chat templates) and the repo
# (tests/fuzz/seeds, configs/eval). A crash, sanitizer report, leak, timeout (10 s) or memory blow-up
# (2 GiB) is a finding: its input is saved in $BUILD_DIR/fuzz-findings/<target>/ and the script exits 1
# after all targets ran. Prints one line per target: executions, coverage (edges) and features reached.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
seconds="${1:-60}"
shift || true
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
shared="${VLM_SHARED:-$repo/../shared}"
corpus_root="${FUZZ_CORPUS:-$BUILD_DIR/fuzz-corpus}"
findings_root="$BUILD_DIR/fuzz-findings"
workers="${FUZZ_WORKERS:-1}"
all_targets=(fuzz_safetensors fuzz_config fuzz_tokenizer_json fuzz_tokenizer_encode fuzz_chat_template
             fuzz_messages fuzz_image fuzz_eval_task fuzz_chat_request)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DVLM_FUZZ=ON -DVLM_WITH_CUDA=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target vlm_fuzz

# seed TARGET FILE...: copies files into the target's corpus (existing corpus entries are kept).
seed() {
  local dir="$corpus_root/$1"
  shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; done
  return 0
}
# seed_text TARGET NAME TEXT: one seed from a string (printf escapes allowed).
seed_text() {
  mkdir -p "$corpus_root/$1"
  printf "$3" >"$corpus_root/$1/seed-$2"
}

prepare_corpora() {
  shopt -s nullglob
  seed fuzz_safetensors tests/fuzz/seeds/safetensors/*
  local f
  for f in "$shared"/fixtures/*/checkpoint/model.safetensors; do  # real headers, data cut to 64 KiB
    mkdir -p "$corpus_root/fuzz_safetensors"
    head -c 65536 "$f" >"$corpus_root/fuzz_safetensors/seed-$(basename "$(dirname "$(dirname "$f")")")"
  done
  seed fuzz_config "$shared"/fixtures/*/checkpoint/{config,generation_config,preprocessor_config}.json
  seed fuzz_tokenizer_json "$shared"/fixtures/*/checkpoint/tokenizer.json
  # Texts of the tokenization cases, each behind the byte that picks its tokenizer (fuzz_tokenizer_encode.cpp).
  local names=(qwen2_vl idefics2 t5 roberta_base opt vipllava mllama) i line n
  for i in "${!names[@]}"; do
    f="$shared/reference/tokenization/${names[$i]}.jsonl"
    [ -f "$f" ] || continue
    mkdir -p "$corpus_root/fuzz_tokenizer_encode"
    n=0
    while IFS= read -r line && ((n < 40)); do
      printf "\\x0$i%s" "$line" >"$corpus_root/fuzz_tokenizer_encode/seed-${names[$i]}-$n"
      n=$((n + 1))
    done <"$f"
  done
  # Each reference template alone, and with each fixture conversation after a NUL byte.
  seed fuzz_chat_template "$shared"/reference/chat_templates/*.jinja
  local m
  for f in "$shared"/reference/chat_templates/*.jinja; do
    for m in "$shared"/fixtures/*/inputs/messages_*.json; do
      { cat "$f"; printf '\0'; cat "$m"; } >"$corpus_root/fuzz_chat_template/seed-$(basename "$f")-$(basename "$(dirname "$(dirname "$m")")")-$(basename "$m")"
    done
  done
  seed fuzz_messages "$shared"/fixtures/*/inputs/messages_*.json
  seed_text fuzz_messages paths '[{"role": "user", "content": [{"type": "image", "path": "image.png"}, {"type": "video", "path": "frames"}, {"type": "text", "text": "Hi"}]}]'
  seed fuzz_image tests/fuzz/seeds/image/* "$shared"/fixtures/*/inputs/*.png
  for f in configs/eval/*.yaml; do
    mkdir -p "$corpus_root/fuzz_eval_task"
    { printf '\x00'; cat "$f"; } >"$corpus_root/fuzz_eval_task/seed-$(basename "$f")"
  done
  { printf '\x01'; head -n 3 configs/eval/shapes/shapes.jsonl; } >"$corpus_root/fuzz_eval_task/seed-jsonl"
  seed_text fuzz_eval_task csv '\x02question,image,answers,choices\n"How many, really?",image.png,2,\nIs it red?,image.png,yes,\n'
  seed fuzz_chat_request tests/fuzz/seeds/chat_request/*
}

max_len() {
  case "$1" in
    fuzz_tokenizer_json | fuzz_image) echo 131072 ;;
    fuzz_safetensors) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

prepare_corpora
status=0
for target in "${targets[@]}"; do
  binary="$BUILD_DIR/bin/$target"
  [ -x "$binary" ] || { echo "fuzz: no $binary (is $target one of: ${all_targets[*]}?)" >&2; exit 2; }
  mkdir -p "$corpus_root/$target" "$findings_root/$target"
  # FUZZ_WORKERS processes share the corpus folder; each writes its own log. Leaks are findings too.
  pids=()
  for ((w = 0; w < workers; w++)); do
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
      "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
      -print_final_stats=1 -artifact_prefix="$findings_root/$target/" "$corpus_root/$target" \
      >"$BUILD_DIR/fuzz-$target.$w.log" 2>&1 &
    pids+=($!)
  done
  result=ok
  for pid in "${pids[@]}"; do wait "$pid" || { result="FINDING (see $BUILD_DIR/fuzz-$target.*.log, $findings_root/$target/)"; status=1; }; done
  execs=$(cat "$BUILD_DIR"/fuzz-"$target".*.log | awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}')
  # Coverage: the highest "cov: C ft: F" any worker reached (they share the corpus, so it is the union's lower bound).
  coverage=$(cat "$BUILD_DIR"/fuzz-"$target".*.log | sed -nE 's/^#[0-9]+.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/p' | sort -n | tail -n 1)
  printf '%-24s %6ss x%s  execs %-10s cov %-6s ft %-7s %s\n' "$target" "$seconds" "$workers" "$execs" \
    "${coverage% *}" "${coverage#* }" "$result"
done
exit "$status"
