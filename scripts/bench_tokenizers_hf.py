#!/usr/bin/env python3
"""Hugging Face `tokenizers` (Rust) throughput on the text vlm_tokenizer_bench uses, for comparison.

Usage (in a venv outside the repo):
    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install tokenizers
    /tmp/hfvenv/bin/python scripts/bench_tokenizers_hf.py [shared_dir]

Builds the same ~1 MB text as tests/perf/tokenizer_bench.cpp (reference texts drawn with the same LCG)
and reports load time and single-threaded encode MB/s for qwen2_vl, mllama and t5.
"""
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # keep HF single-threaded, like the C++ bench
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from tokenizers import Tokenizer  # noqa: E402


def build_corpus(reference: Path) -> str:
    texts, seen = [], set()
    for file in sorted((reference / "tokenization").glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").split("\n"):
            if not line:
                continue
            text = json.loads(line)["text"]
            if text not in seen:
                seen.add(text)
                texts.append(text)
    parts, size, state = [], 0, 42
    mask = (1 << 64) - 1
    while size < 1_000_000:
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        text = texts[(state >> 33) % len(texts)]
        parts.append(text + "\n")
        size += len(text.encode("utf-8")) + 1
    return "".join(parts)


def load(path: Path) -> Tokenizer:
    # HF cannot read "left right" merges whose tokens contain spaces; such files are rewritten with
    # [left, right] pairs first (the split vlm uses). None of the benchmarked tokenizers needs it.
    return Tokenizer.from_file(str(path))


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VLM_SHARED", "../shared"))
    reference = shared / "reference"
    corpus = build_corpus(reference)
    lines = corpus.split("\n")[:-1]
    size_mb = len(corpus.encode("utf-8")) / 1e6
    print(f"corpus: {len(corpus.encode('utf-8'))} bytes, {len(lines)} lines")
    print(f"{'tokenizer':<10} {'load s':>9} {'cold MB/s':>12} {'warm MB/s':>12} {'lines MB/s':>12} {'tokens':>10}")
    for name in ("qwen2_vl", "mllama", "t5"):
        start = time.perf_counter()
        tok = load(reference / "tokenizers" / name / "tokenizer.json")
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        ids = tok.encode(corpus, add_special_tokens=False).ids
        cold = time.perf_counter() - start
        warm = min(timed(lambda: tok.encode(corpus, add_special_tokens=False)) for _ in range(3))
        per_line = min(timed(lambda: [tok.encode(line, add_special_tokens=False) for line in lines]) for _ in range(3))
        print(f"{name:<10} {load_s:9.3f} {size_mb / cold:12.1f} {size_mb / warm:12.1f} {size_mb / per_line:12.1f} {len(ids):10d}")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
