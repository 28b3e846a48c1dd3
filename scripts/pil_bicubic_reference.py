#!/usr/bin/env python3
"""Writes the Pillow reference for PilBicubicTest: SHA-256 of Image.resize(size, Image.BICUBIC) of two synthetic
8-bit RGB patterns (the same formulas are in PilBicubicTest) for a list of sizes, including 256/512/1024 -> 768.

    /usr/bin/python3 scripts/pil_bicubic_reference.py > detection/src/test/resources/org/sr4g/detection/image/pil-bicubic.txt

Needs numpy and Pillow (Debian: python3-numpy python3-pil; checked with Pillow 9.4.0).
"""
import hashlib

import numpy as np
import PIL
from PIL import Image

CASES = [
    (160, 120, 96, 96), (48, 64, 96, 96), (256, 256, 768, 768), (512, 512, 768, 768), (1024, 1024, 768, 768),
    (768, 512, 768, 768), (512, 768, 768, 768), (640, 480, 768, 768), (1000, 333, 768, 768), (7, 5, 768, 768),
    (1, 1, 768, 768), (2000, 1500, 768, 768), (300, 200, 17, 900), (768, 768, 768, 768), (840, 630, 840, 840),
]


def pattern(kind, w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    out = np.empty((h, w, 3), np.uint8)
    for c in range(3):
        if kind == "smooth":
            v = (x * 7 + y * 13 + c * 29 + ((x * y) % 17) * 11 + ((x ^ y) * 3)) & 255
        else:  # "hash": every pixel unrelated to its neighbours, the hardest case for rounding
            v = (((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) & 0xFFFFFFFF) >> 7 & 255
        out[:, :, c] = v
    return out


print(f"# Pillow {PIL.__version__} Image.resize(BICUBIC): w h out_w out_h pattern sha256(RGB bytes)")
for w, h, W, H in CASES:
    for kind in ("smooth", "hash"):
        img = Image.fromarray(pattern(kind, w, h), "RGB").resize((W, H), Image.BICUBIC)
        print(w, h, W, H, kind, hashlib.sha256(img.tobytes()).hexdigest())
