#!/usr/bin/env python3
"""Draws the demo benchmark in configs/eval/shapes/: 30 pictures of 1-4 coloured shapes, each with a
question about the count or the colour, ten annotator-style answers (mostly the plain answer, some in
other words, a few wrong, as VQA annotators give them), and the shape's name among four choices for the
multiple-choice variant. Deterministic (fixed seed); Python standard library only (PNG via zlib).

    python3 scripts/make_shapes_benchmark.py configs/eval/shapes
"""
import json
import random
import struct
import sys
import zlib
from pathlib import Path

SIZE = 96
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (230, 200, 30)}
SHAPES = ["circle", "square", "triangle", "diamond"]
WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}


def png(path, pixels):
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in pixels)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def inside(shape, x, y, cx, cy, r):
    dx, dy = x - cx, y - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        return abs(dx) <= r * 0.85 and abs(dy) <= r * 0.85
    if shape == "diamond":
        return abs(dx) + abs(dy) <= r
    return dy <= r * 0.8 and dy >= -r and abs(dx) <= (dy + r) * 0.6  # triangle, apex up


def annotators(rng, answer, variants, wrong):
    answers = [answer] * 6 + [rng.choice(variants) for _ in range(2)] + [rng.choice(wrong)] + [answer]
    rng.shuffle(answers)
    return answers


def main(out):
    rng = random.Random(1234)
    (out / "images").mkdir(parents=True, exist_ok=True)
    docs = []
    for i in range(30):
        shape, colour = SHAPES[i % 4], list(COLOURS)[(i // 4) % 4]
        count = 1 + (i * 7) % 4
        pixels = [[(250, 250, 250)] * SIZE for _ in range(SIZE)]
        slots = [(24, 24), (72, 24), (24, 72), (72, 72)]
        rng.shuffle(slots)
        for cx, cy in slots[:count]:
            for y in range(SIZE):
                for x in range(SIZE):
                    if inside(shape, x, y, cx, cy, 18):
                        pixels[y][x] = COLOURS[colour]
        name = f"shapes_{i:02d}.png"
        png(out / "images" / name, pixels)
        if i % 2 == 0:
            question = "How many shapes are in the picture?"
            answer = str(count)
            answers = annotators(rng, answer, [WORDS[count], f"{count} {shape}s" if count > 1 else f"1 {shape}"],
                                 [str(c) for c in range(1, 5) if c != count])
        else:
            question = "What colour are the shapes?"
            answer = colour
            answers = annotators(rng, answer, [colour.capitalize(), f"{colour}."], [c for c in COLOURS if c != colour])
        docs.append({"question_id": i, "image": name, "question": question, "answer": answer, "answers": answers,
                     "shape": shape, "choices": SHAPES, "shape_index": SHAPES.index(shape)})
    with open(out / "shapes.jsonl", "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
