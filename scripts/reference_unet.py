#!/usr/bin/env python3
"""PyTorch eager reference for sr4g's engine benchmarks: a plain torch.nn.Module UNet2DConditionModel (SD 1.x/2.x
layout) built from a diffusers unet/config.json, written from the architecture (no diffusers needed), with the
checkpoint's key names so a diffusers state dict loads as it is. Attention is what diffusers 0.31 runs on torch 1.x
(AttnProcessor): baddbmm with the scale folded in, softmax, bmm.

  reference_unet.py check [GOLDEN_DIR]     outputs, activations, loss and gradients against ../shared/golden/unet_a
                                           (exit 1 on any mismatch beyond the fixture's tolerance)
  reference_unet.py infer --shape sd15 --res 64 --batch 1 --steps 5 --warmup 1 [--device cuda --dtype f16]
                                           the denoising step `sr4g bench infer` times (UNet on the CFG batch 2B under
                                           no_grad, guidance mix, latent update), printed in its format
  reference_unet.py train --shape tiny --res 64 --batch 4 --steps 5 --warmup 1
                                           the optimizer step `sr4g bench train` times (fresh random latents, noise,
                                           context and timesteps; forward, MSE, backward, clip 1.0, AdamW)

Shapes are read from sr4g's own built-in configs (BuiltInUNets.java), so both sides build the same network. Run with
Debian's python3-torch (the same libtorch 1.13 as libtorch-dev): /usr/bin/python3 scripts/reference_unet.py ...
"""
import argparse
import json
import math
import os
import re
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILT_IN = os.path.join(ROOT, "diffusion/src/main/java/org/sr4g/diffusion/models/BuiltInUNets.java")
VAE_FACTOR = {"sd15": 8, "sd21": 8, "tiny": 2}


def built_in_config(name):
    src = open(BUILT_IN, encoding="utf-8").read()
    blocks = dict(re.findall(r'public static final String (\w+) = """(.*?)""";', src, re.S))
    return json.loads(blocks[name.upper()])


# --------------------------------------------------------------------------------------------------------- modules


# "baddbmm": diffusers' AttnProcessor (what it runs on torch 1.x); "sdpa": AttnProcessor2_0 (torch >= 2's
# F.scaled_dot_product_attention, flash / memory-efficient kernels on CUDA), the default where torch has it.
ATTENTION = {"kind": "sdpa" if hasattr(F, "scaled_dot_product_attention") else "baddbmm"}


class Attention(nn.Module):
    """diffusers Attention: to_q/to_k/to_v without bias, to_out.0 with bias."""

    def __init__(self, dim, context_dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def split(self, t):
        b, n, c = t.shape
        return t.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, c // self.heads)

    def forward(self, x, context):
        if ATTENTION["kind"] == "sdpa":
            b, n, c = x.shape
            heads = [t.reshape(b, -1, self.heads, c // self.heads).transpose(1, 2)
                     for t in (self.to_q(x), self.to_k(context), self.to_v(context))]
            out = F.scaled_dot_product_attention(*heads).transpose(1, 2).reshape(b, n, c)
            return self.to_out[1](self.to_out[0](out))
        q, k, v = self.split(self.to_q(x)), self.split(self.to_k(context)), self.split(self.to_v(context))
        scores = torch.baddbmm(torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype, device=q.device), q,
                               k.transpose(-1, -2), beta=0, alpha=self.scale)
        out = torch.bmm(scores.softmax(dim=-1), v)
        bh, n, d = out.shape
        out = out.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(bh // self.heads, n, d * self.heads)
        return self.to_out[1](self.to_out[0](out))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, dim, heads)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, context_dim, heads)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Module()
        self.ff.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x, context):
        n = self.norm1(x)
        x = self.attn1(n, n) + x
        x = self.attn2(self.norm2(x), context) + x
        h = self.norm3(x)
        for m in self.ff.net:
            h = m(h)
        return h + x


class Transformer2D(nn.Module):
    def __init__(self, channels, heads, layers, context_dim, groups, linear):
        super().__init__()
        self.linear = linear
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, heads, context_dim) for _ in range(layers)])
        self.proj_out = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        t = self.norm(x)
        if not self.linear:
            t = self.proj_in(t)
        t = t.permute(0, 2, 3, 1).reshape(b, h * w, c)
        if self.linear:
            t = self.proj_in(t)
        for block in self.transformer_blocks:
            t = block(t, context)
        if self.linear:
            t = self.proj_out(t)
        t = t.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        if not self.linear:
            t = self.proj_out(t)
        return t + x


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin, eps=eps), nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout, eps=eps), nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Sampler(nn.Module):
    """Downsample2D (3x3 stride 2) or Upsample2D (nearest x2, then 3x3)."""

    def __init__(self, channels, down, padding=1):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=padding if down else 1)

    def forward(self, x):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        ch = c["block_out_channels"]
        n, g, eps = len(ch), c.get("norm_num_groups", 32), c.get("norm_eps", 1e-5)
        heads = c.get("num_attention_heads") or c.get("attention_head_dim", 8)
        heads = heads if isinstance(heads, list) else [heads] * n
        depth = c.get("transformer_layers_per_block", 1)
        depth = depth if isinstance(depth, list) else [depth] * n
        cross, lin, layers = c.get("cross_attention_dim", 1280), c.get("use_linear_projection", False), c.get("layers_per_block", 2)
        temb = ch[0] * 4
        self.cfg, self.flip, self.shift = c, c.get("flip_sin_to_cos", True), c.get("freq_shift", 0)
        self.conv_in = nn.Conv2d(c.get("in_channels", 4), ch[0], 3, padding=1)
        self.time_embedding = nn.Module()
        self.time_embedding.linear_1, self.time_embedding.linear_2 = nn.Linear(ch[0], temb), nn.Linear(temb, temb)
        self.down_blocks = nn.ModuleList()
        cin = ch[0]
        for i, kind in enumerate(c["down_block_types"]):
            blk = nn.Module()
            attn = kind == "CrossAttnDownBlock2D"
            blk.resnets = nn.ModuleList([ResnetBlock2D(cin if j == 0 else ch[i], ch[i], temb, g, eps) for j in range(layers)])
            if attn:
                blk.attentions = nn.ModuleList([Transformer2D(ch[i], heads[i], depth[i], cross, g, lin) for _ in range(layers)])
            if i < n - 1:
                blk.downsamplers = nn.ModuleList([Sampler(ch[i], True, c.get("downsample_padding", 1))])
            self.down_blocks.append(blk)
            cin = ch[i]
        self.mid_block = nn.Module()
        self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(ch[-1], ch[-1], temb, g, eps) for _ in range(2)])
        self.mid_block.attentions = nn.ModuleList([Transformer2D(ch[-1], heads[-1], depth[-1], cross, g, lin)])
        self.up_blocks = nn.ModuleList()
        rch, rheads, rdepth = ch[::-1], heads[::-1], depth[::-1]
        prev = rch[0]
        for i, kind in enumerate(c["up_block_types"]):
            blk = nn.Module()
            out, skip_in = rch[i], rch[min(i + 1, n - 1)]
            res = []
            for j in range(layers + 1):
                skip = skip_in if j == layers else out
                res.append(ResnetBlock2D((prev if j == 0 else out) + skip, out, temb, g, eps))
            blk.resnets = nn.ModuleList(res)
            if kind == "CrossAttnUpBlock2D":
                blk.attentions = nn.ModuleList([Transformer2D(out, rheads[i], rdepth[i], cross, g, lin) for _ in range(layers + 1)])
            if i < n - 1:
                blk.upsamplers = nn.ModuleList([Sampler(out, False)])
            self.up_blocks.append(blk)
            prev = out
        self.conv_norm_out = nn.GroupNorm(g, ch[0], eps=eps)
        self.conv_out = nn.Conv2d(ch[0], c.get("out_channels", 4), 3, padding=1)

    def time_proj(self, t, batch):
        half = self.cfg["block_out_channels"][0] // 2
        t = t.reshape(-1).expand(batch) if t.numel() == 1 else t
        exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32, device=t.device) / (half - self.shift)
        args = t[:, None].float() * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1) if self.flip else emb
        return emb.to(self.conv_in.weight.dtype)

    def forward(self, sample, t, context, taps=None):
        taps = taps if taps is not None else {}
        emb = self.time_embedding.linear_2(F.silu(self.time_embedding.linear_1(self.time_proj(t, sample.shape[0]))))
        taps["time_embedding"] = emb
        h = self.conv_in(sample)
        skips = [h]
        for i, blk in enumerate(self.down_blocks):
            for j, r in enumerate(blk.resnets):
                h = r(h, emb)
                if hasattr(blk, "attentions"):
                    h = blk.attentions[j](h, context)
                skips.append(h)
            if hasattr(blk, "downsamplers"):
                h = blk.downsamplers[0](h)
                skips.append(h)
            taps["down_blocks.%d" % i] = h
        h = self.mid_block.resnets[0](h, emb)
        h = self.mid_block.resnets[1](self.mid_block.attentions[0](h, context), emb)
        taps["mid_block"] = h
        for blk in self.up_blocks:
            for j, r in enumerate(blk.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), emb)
                if hasattr(blk, "attentions"):
                    h = blk.attentions[j](h, context)
            if hasattr(blk, "upsamplers"):
                h = blk.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# -------------------------------------------------------------------------------------------------------- loading


def read_safetensors(path):
    """{name: tensor} of a safetensors file (F16/BF16 widened to float32)."""
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    kinds = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        if v["dtype"] == "BF16":
            raw = np.frombuffer(data[base + b:base + e], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[base + b:base + e], dtype=kinds[v["dtype"]])
        t = torch.from_numpy(arr.copy()).reshape(v["shape"])
        out[k] = t.float() if t.is_floating_point() else t
    return out


def randomize(model, seed):
    """As sr4g's RandomWeights: norm scales 1, everything else N(0, 0.05^2) (speed does not depend on the values)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if re.fullmatch(r".*norm[^.]*\.weight", name):
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)


# --------------------------------------------------------------------------------------------------------- check


def check(golden):
    cfg = json.load(open(os.path.join(golden, "unet_a.config.json")))
    side = json.load(open(os.path.join(golden, "unet_a.json")))
    atol = side["tolerance"]["atol"]
    io = read_safetensors(os.path.join(golden, "unet_a.io.safetensors"))
    unet = UNet(cfg)
    sd = read_safetensors(os.path.join(golden, "unet_a.weights.safetensors"))
    missing, unexpected = unet.load_state_dict(sd, strict=False)
    problems = []
    if missing or unexpected:
        problems.append("state dict: missing %s, unexpected %s" % (missing, unexpected))
    taps = {}
    out = unet(io["input/sample"], io["input/timestep"], io["input/encoder_hidden_states"], taps)
    loss = F.mse_loss(out, io["input/target"])
    loss.backward()
    params = dict(unet.named_parameters())
    with torch.no_grad():
        out_f = unet(io["input/sample"], io["input/timestep_float"], io["input/encoder_hidden_states"])
    got = {"output/sample": out, "output/sample_timestep_float": out_f, "output/loss": loss.reshape(1),
           "act/time_embedding": taps["time_embedding"], "act/down_blocks.0": taps["down_blocks.0"],
           "act/mid_block": taps["mid_block"]}
    for k in atol:
        if k.startswith("grad/"):
            got[k] = params[k[5:]].grad
    for k, tol in sorted(atol.items()):
        err = (got[k].detach() - io[k]).abs().max().item()
        ok = err <= tol
        print("unet_a %-72s max|err| %.3e  atol %.1e  %s" % (k, err, tol, "ok" if ok else "FAIL"))
        if not ok:
            problems.append(k)
    for p in problems:
        print("MISMATCH:", p)
    print("reference_unet check: %s (%d tensors, torch %s, %d thread(s))"
          % ("PASS" if not problems else "FAIL", len(atol), torch.__version__, torch.get_num_threads()))
    return 0 if not problems else 1


# --------------------------------------------------------------------------------------------------------- timing


def peak_rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1


def malloc_name():
    for line in open("/proc/self/maps"):
        for k in ("tcmalloc", "jemalloc", "mimalloc"):
            if "lib" + k in line:
                return k
    return "glibc"


def blas():
    """The BLAS torch's libblas.so.3 resolves to. As sr4g's C layer does, OpenBLAS's own thread pool is sized to torch's
    intra-op threads (torch.set_num_threads does not reach it), so both sides run matrix products on the same threads."""
    import ctypes
    path = next((line.split()[-1] for line in open("/proc/self/maps") if "libblas.so" in line or "openblas" in line), "")
    if not path:
        return "builtin"
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_set_num_threads(torch.get_num_threads())
        return "openblas (%d thread(s))" % lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return "reference" if "/blas/" in path else path


def settings(a, what):
    return ("settings: pytorch eager %s, %s, batch %d, res %d, %d timed steps + %d warm-up, device %s, dtype %s,"
            " attention %s, torch %s, %d thread(s), malloc %s, blas %s" % (
                what, a.shape, a.batch, a.res, a.steps, a.warmup, a.device, a.dtype, ATTENTION["kind"],
                torch.__version__, torch.get_num_threads(), malloc_name(), blas()))


DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def infer(a):
    cfg = built_in_config(a.shape)
    lat = a.res // VAE_FACTOR[a.shape]
    unet = UNet(cfg).eval()
    randomize(unet, a.seed)
    unet = unet.to(a.device, DTYPES[a.dtype])
    for p in unet.parameters():
        p.requires_grad_(False)
    print(settings(a, "UNet denoising step (CFG batch 2B, no_grad)"))
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(a.batch, cfg.get("in_channels", 4), lat, lat, generator=g).to(a.device)
    ctx = torch.randn(2 * a.batch, 77, cfg["cross_attention_dim"], generator=g).to(a.device, DTYPES[a.dtype])
    total, ms, cpu = a.warmup + a.steps, [], []
    with torch.no_grad():
        for i in range(total):
            t = torch.tensor([999.0 - math.floor(i * 1000.0 / total)], device=a.device)
            sync(a.device)
            s, c0 = time.perf_counter(), time.thread_time()
            eps = unet(torch.cat([x, x]).to(DTYPES[a.dtype]), t, ctx).float()
            u, c = eps.chunk(2)
            x = x - (u + (c - u) * 7.5) * (1.0 / total)
            sync(a.device)
            if i >= a.warmup:
                ms.append((time.perf_counter() - s) * 1e3)
                cpu.append((time.thread_time() - c0) * 1e3)
    report(ms, cpu, a.batch)
    if a.device.startswith("cuda"):
        print("cuda_peak_mib: %.1f" % (torch.cuda.max_memory_allocated(a.device) / 2**20))


def train(a):
    cfg = built_in_config(a.shape)
    lat = a.res // VAE_FACTOR[a.shape]
    unet = UNet(cfg).train()
    randomize(unet, a.seed)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
    a.device, a.dtype = "cpu", "f32"
    print(settings(a, "training step (forward, MSE, backward, clip 1.0, AdamW)"))
    g = torch.Generator().manual_seed(a.seed)
    ms, cpu = [], []
    for i in range(a.warmup + a.steps):
        s, c0 = time.perf_counter(), time.thread_time()
        opt.zero_grad(set_to_none=True)
        x = torch.randn(a.batch, cfg.get("in_channels", 4), lat, lat, generator=g)
        noise = torch.randn(a.batch, cfg.get("out_channels", 4), lat, lat, generator=g)
        ctx = torch.randn(a.batch, 77, cfg["cross_attention_dim"], generator=g)
        t = torch.randint(0, 1000, (a.batch,), generator=g)
        loss = F.mse_loss(unet(x, t, ctx), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        loss.item()
        if i >= a.warmup:
            ms.append((time.perf_counter() - s) * 1e3)
            cpu.append((time.thread_time() - c0) * 1e3)
    report(ms, cpu, a.batch)


def report(ms, cpu, batch):
    """Wall and CPU time per step; the CPU time is this thread's (torch runs the ops on it with 1 thread)."""
    med = statistics.median(ms)
    print("step_ms: [%s]" % ", ".join("%.1f" % v for v in ms))
    print("step_median_ms: %.1f" % med)
    print("step_cpu_ms: [%s]" % ", ".join("%.1f" % v for v in cpu))
    print("step_cpu_median_ms: %.1f" % statistics.median(cpu))
    print("first_step_over_median: %.2f" % (ms[0] / med))
    print("images_per_s: %.4f" % (batch * 1000.0 / med))
    print("peak_memory_mib: %.1f (process peak RSS, VmHWM)" % peak_rss_mib())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("golden", nargs="?", default=os.environ.get("SR4G_GOLDEN_DIR", os.path.join(ROOT, "../shared/golden")))
    for name in ("infer", "train"):
        s = sub.add_parser(name)
        s.add_argument("--shape", default="tiny", choices=sorted(VAE_FACTOR))
        s.add_argument("--res", type=int)
        s.add_argument("--batch", type=int, default=1)
        s.add_argument("--steps", type=int, default=10)
        s.add_argument("--warmup", type=int, default=1)
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--attention", choices=["baddbmm", "sdpa"], help="default: sdpa where torch has it")
    sub.choices["infer"].add_argument("--device", default="cpu")
    sub.choices["infer"].add_argument("--dtype", default="f32", choices=sorted(DTYPES))
    a = p.parse_args()
    if a.cmd == "check":
        ATTENTION["kind"] = "baddbmm"  # what the golden values were computed with (diffusers on torch 1.13)
        return check(a.golden)
    if a.attention:
        ATTENTION["kind"] = a.attention
    if a.res is None:
        a.res = built_in_config(a.shape)["sample_size"] * VAE_FACTOR[a.shape]
    (infer if a.cmd == "infer" else train)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
