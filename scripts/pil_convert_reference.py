#!/usr/bin/env python3
"""Writes the Pillow reference for ImageDecoderTest: small PNGs of every colour type and bit depth (written byte by
byte here, so the test files hold exactly those encodings), gamma and interlaced variants, and JPEGs, with the RGB
bytes Pillow's Image.open(f).convert("RGB") gives for each (expected.txt: file width height hex).

    /usr/bin/python3 scripts/pil_convert_reference.py detection/src/test/resources/org/sr4g/detection/image/decode

Needs numpy and Pillow (Debian: python3-numpy python3-pil; checked with Pillow 9.4.0).
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
W, H = 7, 5


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(colour_type, depth, rows, extra=b"", interlace=0):
    """rows: list of bytes, each already packed for the bit depth (filter byte added here, filter 0)."""
    ihdr = struct.pack(">IIBBBBB", W, H, depth, colour_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def pack_bits(values, depth):
    bits = "".join(format(v, f"0{depth}b") for v in values)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def samples(n, depth, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1 << depth, size=n, dtype=np.int64)


files = {}
for depth in (1, 2, 4, 8, 16):
    v = samples(W * H, depth, depth)
    rows = []
    for y in range(H):
        r = v[y * W:(y + 1) * W]
        rows.append(pack_bits(r, depth) if depth < 8 else (r.astype(">u2").tobytes() if depth == 16 else bytes(r.astype(np.uint8))))
    files[f"grey{depth}.png"] = png(0, depth, rows)
for depth, ct, ch, name in ((8, 4, 2, "grey-alpha8"), (16, 4, 2, "grey-alpha16"), (8, 2, 3, "rgb8"), (16, 2, 3, "rgb16"),
                            (8, 6, 4, "rgba8"), (16, 6, 4, "rgba16")):
    v = samples(W * H * ch, depth, 100 + ct * 10 + depth)
    dt = ">u2" if depth == 16 else np.uint8
    rows = [v[y * W * ch:(y + 1) * W * ch].astype(dt).tobytes() for y in range(H)]
    files[name + ".png"] = png(ct, depth, rows)
for depth in (1, 2, 4, 8):
    n = min(1 << depth, 6)
    pal = bytes(samples(3 * n, 8, 200 + depth).astype(np.uint8))
    v = samples(W * H, depth, 300 + depth) % n
    rows = [pack_bits(v[y * W:(y + 1) * W], depth) if depth < 8 else bytes(v[y * W:(y + 1) * W].astype(np.uint8))
            for y in range(H)]
    trns = chunk(b"tRNS", bytes([0, 128][:n])) if depth == 4 else b""
    files[f"palette{depth}.png"] = png(3, depth, rows, chunk(b"PLTE", pal) + trns)
v = samples(W * H * 3, 8, 7)
rgb_rows = [bytes(v[y * W * 3:(y + 1) * W * 3].astype(np.uint8)) for y in range(H)]
files["rgb8-gamma.png"] = png(2, 8, rgb_rows, chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"tRNS", b"\x00\x01\x00\x02\x00\x03"))
g = samples(W * H, 8, 8)
files["grey8-trns.png"] = png(0, 8, [bytes(g[y * W:(y + 1) * W].astype(np.uint8)) for y in range(H)], chunk(b"tRNS", b"\x00\x10"))
# Adam7: encode the same rgb8 image interlaced (passes of the reduced images, each row with its filter byte).
img = np.frombuffer(b"".join(rgb_rows), np.uint8).reshape(H, W, 3)
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
raw = b""
for x0, y0, dx, dy in passes:
    sub = img[y0::dy, x0::dx]
    if sub.shape[0] == 0 or sub.shape[1] == 0:
        continue
    raw += b"".join(b"\x00" + row.tobytes() for row in sub)
ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 1)
files["rgb8-interlaced.png"] = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                                + chunk(b"IEND", b""))
# JPEGs: a smooth colour picture (4:2:0 and 4:4:4), progressive, and greyscale.
yy, xx = np.mgrid[0:37, 0:53]
pic = np.stack([(xx * 5) % 256, (yy * 7) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
for name, kw, mode in (("colour420.jpg", dict(quality=85, subsampling=2), "RGB"),
                       ("colour444.jpg", dict(quality=92, subsampling=0), "RGB"),
                       ("progressive.jpg", dict(quality=80, progressive=True), "RGB"),
                       ("grey.jpg", dict(quality=90), "L")):
    b = io.BytesIO()
    Image.fromarray(pic if mode == "RGB" else pic[:, :, 0], mode).save(b, "JPEG", **kw)
    files[name] = b.getvalue()

with open(os.path.join(out, "expected.txt"), "w") as f:
    f.write(f"# Pillow {PIL.__version__}: file width height mode hex(Image.open(file).convert('RGB').tobytes())\n")
    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as g:
            g.write(data)
        im = Image.open(io.BytesIO(data))
        mode = im.mode
        rgb = im.convert("RGB")
        f.write(f"{name} {rgb.width} {rgb.height} {mode} {rgb.tobytes().hex()}\n")
