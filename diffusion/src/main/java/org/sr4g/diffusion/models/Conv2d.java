package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** torch.nn.Conv2d with a square kernel: {@code <prefix>.weight [out, in, k, k]}, {@code <prefix>.bias [out]}. */
final class Conv2d {
  final Tensor weight, bias;
  private final int stride, padding;

  Conv2d(ParamLoader p, String prefix, long in, long out, int kernel, int stride, int padding) {
    this.weight = p.param(prefix + ".weight", out, in, kernel, kernel);
    this.bias = p.param(prefix + ".bias", out);
    this.stride = stride;
    this.padding = padding;
  }

  Tensor forward(Tensor x) {
    return Nn.conv2d(x, weight, bias, stride, padding, 1);
  }
}
