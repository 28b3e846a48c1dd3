package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** torch.nn.Conv2d with a square kernel: {@code <prefix>.weight [out, in, k, k]}, {@code <prefix>.bias [out]}. */
final class Conv2d {
  final Tensor weight, bias;
  private final int stride, padding;
  /** Added to the output when the model was loaded with an adapter for this layer (LoRA); usually null. */
  private final LayerAdapter adapter;

  Conv2d(ParamLoader p, String prefix, long in, long out, int kernel, int stride, int padding) {
    this.weight = p.param(prefix + ".weight", out, in, kernel, kernel);
    this.bias = p.param(prefix + ".bias", out);
    this.stride = stride;
    this.padding = padding;
    this.adapter = p.adapter(prefix);
  }

  Tensor forward(Tensor x) {
    Tensor y = Nn.conv2d(x, weight, bias, stride, padding, 1);
    return adapter == null ? y : y.add(adapter.conv(x, stride, padding));
  }
}
