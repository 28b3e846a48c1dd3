#!/usr/bin/env python3
"""GPU half of the sampling comparison in scripts/device-check.sh: diffusers' StableDiffusionPipeline against
`sr4g bench sample` on the same random SD 1.5-shaped model folder (no checkpoint can be downloaded there).

  device_pipeline.py write DIR GOLDEN_DIR      a diffusers folder with SD 1.5's UNet, VAE and CLIP ViT-L/14 text
                                               encoder shapes (random weights, seed 0), the CLIP tokenizer files from
                                               GOLDEN_DIR (vocab.json, merges.txt) and SD's PNDM scheduler config
  device_pipeline.py time DIR --batch B --images N --steps S --res 512 --dtype f16 --device cuda
                                               images/s of StableDiffusionPipeline on it (guidance 7.5, PNDM), printed
                                               as `images_per_s: X`

Needs torch with CUDA and diffusers + transformers (pip); without them it says so and exits 3.
"""
import argparse
import json
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def need():
    try:
        import diffusers  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        print("device_pipeline: %s (pip install diffusers transformers)" % e)
        sys.exit(3)


def write(folder, golden):
    need()
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    torch.manual_seed(0)
    src = open(os.path.join(ROOT, "diffusion/src/main/java/org/sr4g/diffusion/models/BuiltInUNets.java")).read()
    unet_cfg = json.loads(dict(re.findall(r'public static final String (\w+) = """(.*?)""";', src, re.S))["SD15"])
    unet = UNet2DConditionModel(**unet_cfg)
    vae = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[128, 256, 512, 512],
                        layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=512)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=49408, hidden_size=768, intermediate_size=3072,
                                        num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
                                        hidden_act="quick_gelu", eos_token_id=49407, bos_token_id=49406))
    tok = CLIPTokenizer(os.path.join(golden, "vocab.json"), os.path.join(golden, "merges.txt"))
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    print("wrote", folder)


def time_pipeline(a):
    need()
    import torch
    from diffusers import StableDiffusionPipeline
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[a.dtype]
    pipe = StableDiffusionPipeline.from_pretrained(a.folder, torch_dtype=dtype).to(a.device)
    pipe.set_progress_bar_config(disable=True)
    prompts = ["a cat to the left of a dog", "a red cup above a book", "a bus below a kite", "a horse to the right of a tree"]
    run = lambda k: pipe([prompts[i % 4] for i in range(k)], height=a.res, width=a.res, num_inference_steps=a.steps,
                         guidance_scale=7.5, output_type="pil")
    run(1)
    torch.cuda.synchronize()
    s = time.perf_counter()
    done = 0
    while done < a.images:
        k = min(a.batch, a.images - done)
        run(k)
        done += k
    torch.cuda.synchronize()
    sec = time.perf_counter() - s
    print("settings: diffusers StableDiffusionPipeline, torch %s, dtype %s, batch %d, %d images, %d steps, res %d"
          % (torch.__version__, a.dtype, a.batch, a.images, a.steps, a.res))
    print("images_per_s: %.4f" % (a.images / sec))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("folder")
    w.add_argument("golden")
    t = sub.add_parser("time")
    t.add_argument("folder")
    t.add_argument("--batch", type=int, default=1)
    t.add_argument("--images", type=int, default=8)
    t.add_argument("--steps", type=int, default=20)
    t.add_argument("--res", type=int, default=512)
    t.add_argument("--dtype", default="f16")
    t.add_argument("--device", default="cuda")
    a = p.parse_args()
    if a.cmd == "write":
        write(a.folder, a.golden)
    else:
        time_pipeline(a)


if __name__ == "__main__":
    main()
