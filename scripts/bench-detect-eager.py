#!/usr/bin/env python3
"""The reference for `sr4g bench detect`: OWL-ViT v1's detection forward pass written with PyTorch eager ops
(torch.nn.functional, what transformers' OwlViTForObjectDetection runs: conv patch embedding, pre-LN CLIP layers,
post-LN on every token, class and box heads), same shapes, random weights, two queries per image, no autograd. Prints
the same fields as sr4g bench detect (pass_median_ms, images_per_s, peak_memory_mib).

    /usr/bin/python3 scripts/bench-detect-eager.py --shape owlvit-b32 --batch 8 --steps 5 --warmup 1

Debian's python3-torch runs on the same libtorch as sr4g's native layer, so the ratio measures sr4g's overhead.
"""
import argparse
import math
import resource
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = {  # vision: width, layers, heads, mlp, image, patch; text: width, layers, heads, mlp
    "owlvit-b32": ((768, 12, 12, 3072, 768, 32), (512, 12, 8, 2048)),
    "owlvit-b16": ((768, 12, 12, 3072, 768, 16), (512, 12, 8, 2048)),
    "owlvit-l14": ((1024, 24, 16, 4096, 840, 14), (768, 12, 12, 3072)),
}


def layer(width, mlp, g):
    def r(*s):
        return torch.randn(*s, generator=g) * 0.05
    return {"ln1": (torch.ones(width), torch.zeros(width)), "qkv": [(r(width, width), r(width)) for _ in range(3)],
            "out": (r(width, width), r(width)), "ln2": (torch.ones(width), torch.zeros(width)),
            "fc1": (r(mlp, width), r(mlp)), "fc2": (r(width, mlp), r(width))}


def encoder_layer(x, p, heads, mask):
    b, n, w = x.shape
    h = F.layer_norm(x, (w,), *p["ln1"])
    q, k, v = (F.linear(h, *wb).view(b, n, heads, w // heads).transpose(1, 2) for wb in p["qkv"])
    att = torch.matmul(q * (w // heads) ** -0.5, k.transpose(-1, -2))
    if mask is not None:
        att = att + mask
    o = torch.matmul(att.softmax(-1), v).transpose(1, 2).reshape(b, n, w)
    x = x + F.linear(o, *p["out"])
    m = F.linear(F.layer_norm(x, (w,), *p["ln2"]), *p["fc1"])
    m = m * torch.sigmoid(1.702 * m)  # quick_gelu
    return x + F.linear(m, *p["fc2"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="owlvit-b32", choices=SHAPES)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    (vw, vl, vh, vm, size, patch), (tw, tl, th, tm) = SHAPES[a.shape]
    g = torch.Generator().manual_seed(0)
    grid = size // patch
    conv = torch.randn(vw, 3, patch, patch, generator=g) * 0.05
    cls, pos = torch.randn(vw, generator=g), torch.randn(grid * grid + 1, vw, generator=g) * 0.05
    vlayers = [layer(vw, vm, g) for _ in range(vl)]
    tok, tpos = torch.randn(49408, tw, generator=g) * 0.05, torch.randn(16, tw, generator=g) * 0.05
    tlayers = [layer(tw, tm, g) for _ in range(tl)]
    ln = (torch.ones(vw), torch.zeros(vw))
    proj = torch.randn(tw, tw, generator=g) * 0.05
    dense0 = (torch.randn(tw, vw, generator=g) * 0.05, torch.zeros(tw))
    shift = scale = (torch.randn(1, vw, generator=g) * 0.05, torch.zeros(1))
    box = [(torch.randn(o, vw, generator=g) * 0.05, torch.zeros(o)) for o in (vw, vw, 4)]
    pixels = torch.randn(a.batch, 3, size, size, generator=g)
    q = 2 * a.batch
    ids = torch.zeros(q, 16, dtype=torch.long)
    ids[:, :7] = torch.tensor([49406, 320, 1125, 539, 320, 1000, 49407])
    keep = (ids > 0).float()
    causal = torch.full((16, 16), float("-inf")).triu(1)
    mask = causal + (1 - keep)[:, None, None, :] * torch.finfo(torch.float32).min

    def forward():
        x = F.conv2d(pixels, conv, stride=patch).flatten(2).transpose(1, 2)
        x = torch.cat([cls.expand(a.batch, 1, vw), x], 1) + pos
        x = F.layer_norm(x, (vw,), torch.ones(vw), torch.zeros(vw))
        for p in vlayers:
            x = encoder_layer(x, p, vh, None)
        x = F.layer_norm(x, (vw,), torch.ones(vw), torch.zeros(vw))
        f = F.layer_norm(x[:, 1:] * x[:, :1], (vw,), *ln)
        t = tok[ids] + tpos
        for p in tlayers:
            t = encoder_layer(t, p, th, mask)
        t = F.layer_norm(t, (tw,), torch.ones(tw), torch.zeros(tw))[torch.arange(q), ids.argmax(-1)]
        t = F.linear(t, proj)
        t = t / t.norm(dim=-1, keepdim=True)
        t = (t / (t.norm(dim=-1, keepdim=True) + 1e-6)).view(a.batch, 2, tw)
        c = F.linear(f, *dense0)
        c = c / (c.norm(dim=-1, keepdim=True) + 1e-6)
        logits = (torch.einsum("bpd,bqd->bpq", c, t) + F.linear(f, *shift)) * (F.elu(F.linear(f, *scale)) + 1)
        bx = F.linear(F.gelu(F.linear(F.gelu(F.linear(f, *box[0])), *box[1])), *box[2])
        return logits.tolist(), torch.sigmoid(bx).tolist()  # read back, as post-processing does

    ms = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            forward()
            if i >= a.warmup:
                ms.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(ms)
    print(f"bench detect (PyTorch {torch.__version__} eager, {torch.get_num_threads()} threads): shape {a.shape},"
          f" batch {a.batch}, {a.steps} passes + {a.warmup} warm-up")
    print("pass_ms:", [round(v, 1) for v in ms])
    print(f"pass_median_ms: {med:.1f}")
    print(f"images_per_s: {a.batch / (med / 1000):.3f}")
    print(f"peak_memory_mib: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} (process peak RSS)")


if __name__ == "__main__":
    main()
