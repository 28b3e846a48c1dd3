#!/usr/bin/env python3
"""Loads the checkpoints PyTorchCheckpointTest writes (diffusion/target/pytorch-checkpoints/) with PyTorch's own
torch.load(weights_only=True) and prints what it makes of each: the good-* files must load (their tensors are
printed, to compare with the Java test's expectations) and the hostile-* files must be refused. For the broken-*
files (which sr4g refuses) PyTorch's behaviour is printed for information: it does not check CRCs or storage record
sizes and accepts stride-0 views, which sr4g refuses because it copies every tensor.

    /usr/bin/python3 scripts/check-torch-checkpoints.py [DIR]     # Debian's python3-torch
"""
import os
import sys

import torch

d = sys.argv[1] if len(sys.argv) > 1 else "diffusion/target/pytorch-checkpoints"
bad = 0
for name in sorted(os.listdir(d)):
    path = os.path.join(d, name)
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
        if isinstance(obj, dict) and "state_dict" in obj:
            obj = obj["state_dict"]
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, torch.Tensor):
                    _ = v.flatten()[:4].tolist()  # reading the values checks the storage bounds
        summary = {k: (tuple(v.shape), str(v.dtype), v.flatten()[:4].tolist())
                   for k, v in (obj.items() if isinstance(obj, dict) else []) if isinstance(v, torch.Tensor)}
        status = "loads"
    except Exception as e:  # noqa: BLE001 - any refusal counts
        summary = (type(e).__name__ + ": " + (str(e).splitlines() or [""])[0])[:150]
        status = "refused"
    expected = "loads" if name.startswith("good-") else "refused" if name.startswith("hostile-") else status
    flag = "ok " if status == expected else "UNEXPECTED"
    if not (name.startswith("good-") or name.startswith("hostile-")):
        flag = "(i)"
    if status != expected:
        bad += 1
    print(f"{flag} {name:34s} {status:8s} {summary}")
print(f"{bad} unexpected")
sys.exit(1 if bad else 0)
