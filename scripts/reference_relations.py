#!/usr/bin/env python3
"""Independent reference for the sr4g14 rules and the --emit one choice, written from docs/relations.md in numpy
float32, sharing no code with the Java implementation. It prints the per-relation counts; with --json, as one JSON
object, which core/src/test/java/org/sr4g/dataset/TinyCocoTest.java runs and compares with `sr4g generate` on
../shared/coco/tiny (CI installs python3-numpy for it).

usage: scripts/reference_relations.py [--json] TRAIN.json [EVAL.json]
"""
import json
import sys
from collections import Counter

import numpy as np

F = np.float32
T = F(0.02)
NAMES = ["left of", "right of", "above", "below", "surrounding", "inside", "overlapping", "separated",
         "wider than", "narrower than", "taller than", "shorter than", "larger than", "smaller than"]
GROUPS = [[0, 1, 2, 3, 4, 5], [6, 7], [8, 9, 10, 11, 12, 13]]
M64 = (1 << 64) - 1


def norm(b, W, H):
    x, y, w, h = (F(v) for v in b)
    W, H = F(W), F(H)
    x0, y0, x1, y1 = x / W, y / H, (x + w) / W, (y + h) / H
    bw, bh = w / W, h / H
    return dict(x0=x0, y0=y0, x1=x1, y1=y1, cx=(x0 + x1) / F(2), cy=(y0 + y1) / F(2), bw=bw, bh=bh, area=bw * bh)


def relations(s, o):
    r = set()
    if s["x0"] - T <= o["x0"] and s["x1"] + T >= o["x1"] and s["y0"] - T <= o["y0"] and s["y1"] + T >= o["y1"]:
        r.add(4)
    elif s["x0"] + T >= o["x0"] and s["x1"] - T <= o["x1"] and s["y0"] + T >= o["y0"] and s["y1"] - T <= o["y1"]:
        r.add(5)
    else:
        dx, dy = s["cx"] - o["cx"], s["cy"] - o["cy"]
        if dx > 0 and -dx <= dy and dy < dx:
            r.add(1)
        elif dy > 0 and -dy < dx and dx <= dy:
            r.add(3)
        elif dx < 0 and dx <= dy and dy <= -dx:
            r.add(0)
        elif dy < 0 and dy < dx and dx < -dy:
            r.add(2)
    iw = min(s["x1"], o["x1"]) - max(s["x0"], o["x0"])
    ih = min(s["y1"], o["y1"]) - max(s["y0"], o["y0"])
    r.add(6 if (iw > 0 and ih > 0) else 7)
    for k, a, b in (("bw", 8, 9), ("bh", 10, 11), ("area", 12, 13)):
        if s[k] > o[k]:
            r.add(a)
        elif s[k] < o[k]:
            r.add(b)
    return r


def mix64(z):
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def hash_longs(seed, *vals):
    h = mix64(seed + 0x9E3779B97F4A7C15)
    for v in vals:
        h = mix64(h ^ (v & M64))
    return h


def below(bits32, n):
    return ((bits32 & 0xFFFFFFFF) * n) >> 32


def choose_one(seed, image_id, sid, oid, rels):
    h = hash_longs(seed, image_id, sid, oid)
    groups = [[r for r in g if r in rels] for g in GROUPS]
    groups = [g for g in groups if g]
    g = groups[below(h >> 32, len(groups))]
    return g[below(h, len(g))]


def fnv_hash(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return mix64(h)


def pairs(path):
    d = json.load(open(path))
    imgs = {i["id"]: i for i in d["images"]}
    cats = {c["id"]: c["name"] for c in d["categories"]}
    by_img = {}
    for a in d["annotations"]:
        if a["iscrowd"] or a["bbox"][2] <= 0 or a["bbox"][3] <= 0:
            continue
        by_img.setdefault(a["image_id"], []).append(a)
    for iid in sorted(by_img):
        anns = sorted(by_img[iid], key=lambda a: a["id"])
        im = imgs[iid]
        nb = [norm(a["bbox"], im["width"], im["height"]) for a in anns]
        for i, s in enumerate(anns):
            for j, o in enumerate(anns):
                if i != j and s["category_id"] != o["category_id"]:
                    yield iid, s, o, relations(nb[i], nb[j]), cats


def main():
    as_json = "--json" in sys.argv[1:]
    paths = [a for a in sys.argv[1:] if a != "--json"]
    all_counts, one_counts, npairs = Counter(), Counter(), 0
    for iid, s, o, rels, _ in pairs(paths[0]):
        npairs += 1
        for r in rels:
            all_counts[r] += 1
        one_counts[choose_one(0, iid, s["id"], o["id"], rels)] += 1
    out = {
        "eligible_pairs": npairs,
        "emit_all_rows": sum(all_counts.values()),
        "emit_all": {NAMES[r]: all_counts[r] for r in range(14)},
        "emit_one_seed0": {NAMES[r]: one_counts[r] for r in range(14)},
    }
    if len(paths) > 1:
        support = Counter()
        seen_per_image = {}
        for iid, s, o, rels, cats in pairs(paths[1]):
            for r in rels:
                seen_per_image.setdefault(iid, set()).add((cats[s["category_id"]], r, cats[o["category_id"]]))
        for trip in seen_per_image.values():
            for t in trip:
                support[t] += 1
        test = sum(1 for (s, r, o) in support if fnv_hash(f"{s}|{NAMES[r]}|{o}") & 1)
        out.update(eval_triplets=len(support), prompts_val=len(support) - test, prompts_test=test)
    if as_json:
        print(json.dumps(out, indent=1))
        return
    print("eligible pairs", out["eligible_pairs"])
    print("emit all rows", out["emit_all_rows"])
    for name in NAMES:
        print(f"  {name:14s} all={out['emit_all'][name]:6d} one(seed 0)={out['emit_one_seed0'][name]:6d}")
    if "eval_triplets" in out:
        print("eval triplets", out["eval_triplets"], "val", out["prompts_val"], "test", out["prompts_test"])


if __name__ == "__main__":
    main()
