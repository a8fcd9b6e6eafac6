#!/usr/bin/env python3
"""Writes the small files in tests/image/data/ and, for each, what PIL makes of it (not run by the tests).

Pillow 9.4.0 (as tests/image/pillow_expectations.py says how to get it):
    /tmp/pilvenv/bin/python tests/image/make_conversion_samples.py
For every sample X.ext it writes X.ext.rgb = np.asarray(Image.open("X.ext").convert("RGB")).tobytes(),
the bytes load_image must reproduce (except where test_load_image.cpp documents a deliberate difference).
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
W, H = 8, 6
rng = np.random.default_rng(7)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, array, colour_type):
    """16-bit PNG (Pillow cannot write 16-bit RGB): big-endian samples, filter 0 on every row."""
    h, w = array.shape[:2]
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(raw)))
        f.write(png_chunk(b"IEND", b""))


rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
alpha = rng.integers(0, 256, (H, W), dtype=np.uint8)
alpha[0, 0] = 0  # fully transparent pixel: PIL keeps its colour
grey = rng.integers(0, 256, (H, W), dtype=np.uint8)
samples = {
    "rgb.png": Image.fromarray(rgb, "RGB"),
    "rgba.png": Image.fromarray(np.dstack([rgb, alpha]), "RGBA"),
    "grey.png": Image.fromarray(grey, "L"),
    "grey_alpha.png": Image.fromarray(np.dstack([grey, alpha]), "LA"),
    "bilevel.png": Image.fromarray(grey > 127).convert("1"),
    "palette.png": Image.fromarray(rgb, "RGB").quantize(colors=16),
    "cmyk.tif": Image.fromarray(np.dstack([rgb, grey]), "CMYK"),
}
palette_transparent = Image.fromarray(rgb, "RGB").quantize(colors=16)
palette_transparent.info["transparency"] = 3
for name, image in samples.items():
    image.save(os.path.join(HERE, name))
# JPEG: 4:2:0 chroma (decoder upsampling must match), and Adobe CMYK (stored inverted).
Image.fromarray(rgb, "RGB").save(os.path.join(HERE, "rgb_420.jpg"), quality=80, subsampling=2)
Image.fromarray(np.dstack([rgb, grey]), "CMYK").save(os.path.join(HERE, "cmyk.jpg"), quality=80)
palette_transparent.save(os.path.join(HERE, "palette_transparent.png"), transparency=3)
frames = [Image.fromarray(rgb, "RGB").quantize(colors=16), Image.fromarray(255 - rgb, "RGB").quantize(colors=16)]
frames[0].save(os.path.join(HERE, "two_frames.gif"), save_all=True, append_images=frames[1:])
write_png16(os.path.join(HERE, "rgb16.png"), rng.integers(0, 65536, (H, W, 3)), colour_type=2)
write_png16(os.path.join(HERE, "grey16.png"), rng.integers(0, 65536, (H, W)), colour_type=0)

for name in sorted(os.listdir(HERE)):
    if name.endswith(".rgb"):
        continue
    with Image.open(os.path.join(HERE, name)) as image:
        converted = np.asarray(image.convert("RGB"))
        print(f"{name}: mode {image.mode} -> RGB {converted.shape}")
    with open(os.path.join(HERE, name + ".rgb"), "wb") as f:
        f.write(converted.tobytes())
