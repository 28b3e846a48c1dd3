/**
 * Stable Diffusion (diffusers-format checkpoints) on the native engine ({@code org.sr4g.torch}). Sub-packages mirror
 * the checkpoint folder: {@code safetensors}, {@code tokenizer}, {@code models} (text encoder, UNet, VAE),
 * {@code schedulers}; {@code ModelFolder} loads a folder and {@code Txt2Img} samples. See docs/diffusion.md.
 */
package org.sr4g.diffusion;
