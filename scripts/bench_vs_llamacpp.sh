#!/bin/bash
# Alternating pairs of llama-bench and `vlm bench` on the same weights, so that both see the same memory
# bandwidth (it drifts from minute to minute on shared machines): docs/PERFORMANCE.md's side-by-side tables.
#
#   scripts/bench_vs_llamacpp.sh CHECKPOINT GGUF_PREFIX [ROUNDS]
#
# CHECKPOINT: a bf16 checkpoint directory (e.g. `vlm synth --family qwen2_vl --size 2b --out /tmp/q2b --dtype bf16`).
# GGUF_PREFIX: its llama.cpp conversions GGUF_PREFIX-{bf16,Q8_0,Q4_0}.gguf (convert_hf_to_gguf.py, llama-quantize).
# Environment: VLM (default build/bin/vlm), LLAMA_BENCH (default llama-bench), PYTHON (with nothing but json),
# PAIRS (default "Q4_0:int4 Q8_0:int8 bf16:none").
set -euo pipefail
checkpoint=$1 prefix=$2 rounds=${3:-3}
vlm=${VLM:-build/bin/vlm} llama=${LLAMA_BENCH:-llama-bench} python=${PYTHON:-python3}
for round in $(seq "$rounds"); do
  for pair in ${PAIRS:-Q4_0:int4 Q8_0:int8 bf16:none}; do
    gguf=${pair%%:*} quant=${pair##*:}
    "$llama" -m "$prefix-$gguf.gguf" -p 465 -n 32 -t 2 -r 2 -o json 2>/dev/null | "$python" -c "
import json, sys
for r in json.load(sys.stdin):
    test = 'pp%d' % r['n_prompt'] if r['n_prompt'] else 'tg%d' % r['n_gen']
    print('round $round llama.cpp $gguf', test, '%.2f tokens/s' % r['avg_ts'])"
    "$vlm" bench --model "$checkpoint" --image-size 448x448 --prompt-words 64 --new-tokens 32 --runs 1 \
      --quantize "$quant" --json 2>/dev/null | "$python" -c "
import json, sys
d = json.load(sys.stdin)
print('round $round vlm $quant', 'vision %.0f ms, prefill %.1f tokens/s (%d tokens), decode %.2f tokens/s, %.0f%% of the bound (%.1f GB/s, %.0f MB per step), peak RSS %.0f MB' % (
    d['vision_ms'], d['prefill_tokens_per_s'], d['prompt_tokens'], d['decode_tokens_per_s'],
    100 * d.get('decode_fraction_of_bound', 0), d['backend'].get('read_bandwidth_gbs', 0),
    d.get('decode_weight_bytes_per_step', 0) / 1e6, d['peak_rss_mb']))"
  done
done
