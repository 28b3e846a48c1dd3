package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** torch.nn.LayerNorm over the last dimension: {@code <prefix>.weight/bias [dim]}. */
public final class LayerNorm {
  private final Tensor weight, bias;
  private final long[] shape;
  private final double eps;

  public LayerNorm(ParamLoader p, String prefix, long dim, double eps) {
    this.weight = p.param(prefix + ".weight", dim);
    this.bias = p.param(prefix + ".bias", dim);
    this.shape = new long[] {dim};
    this.eps = eps;
  }

  public Tensor forward(Tensor x) {
    return Nn.layerNorm(x, shape, weight, bias, eps);
  }
}
