package org.sr4g.diffusion.models;

import org.sr4g.UserInputException;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** torch.nn.GroupNorm with affine parameters {@code <prefix>.weight/bias [channels]}. */
final class GroupNorm {
  private final Tensor weight, bias;
  private final int groups;
  private final double eps;

  GroupNorm(ParamLoader p, String prefix, int groups, long channels, double eps) {
    if (channels % groups != 0)
      throw new UserInputException(prefix + ": " + channels + " channels not divisible into " + groups + " groups");
    this.weight = p.param(prefix + ".weight", channels);
    this.bias = p.param(prefix + ".bias", channels);
    this.groups = groups;
    this.eps = eps;
  }

  Tensor forward(Tensor x) {
    return Nn.groupNorm(x, groups, weight, bias, eps);
  }
}
