package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** torch.nn.Linear: {@code <prefix>.weight [out, in]}, {@code <prefix>.bias [out]} (optional). */
public final class Linear {
  final Tensor weight, bias;

  public Linear(ParamLoader p, String prefix, long in, long out, boolean bias) {
    this.weight = p.param(prefix + ".weight", out, in);
    this.bias = bias ? p.param(prefix + ".bias", out) : null;
  }

  public Tensor forward(Tensor x) {
    return Nn.linear(x, weight, bias);
  }
}
