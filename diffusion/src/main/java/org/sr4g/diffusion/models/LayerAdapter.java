package org.sr4g.diffusion.models;

import org.sr4g.torch.Tensor;

/**
 * Something added to a layer's output at run time, e.g. a LoRA adapter ({@code lora.LoraAdapter}): a {@link Linear}
 * returns {@code W x + b + adapter.linear(x)}, a {@link Conv2d} {@code conv(x) + adapter.conv(x, stride, padding)}.
 * Attached by module name when a model is loaded with adapters; a model loaded without them is unchanged.
 */
public interface LayerAdapter {
  /** The contribution to a linear layer's output for input {@code x} ([…, in] → […, out]). */
  Tensor linear(Tensor x);

  /** The contribution to a convolution's output for input {@code x}, with the base layer's stride and padding. */
  Tensor conv(Tensor x, int stride, int padding);
}
