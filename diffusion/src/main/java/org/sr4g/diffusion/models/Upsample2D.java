package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/** diffusers {@code Upsample2D}: nearest-neighbour ×2, then {@code <prefix>.conv} (3×3, padding 1). */
final class Upsample2D {
  private final Conv2d conv;

  Upsample2D(ParamLoader p, String prefix, long channels) {
    this.conv = new Conv2d(p, prefix + ".conv", channels, channels, 3, 1, 1);
  }

  Tensor forward(Tensor x) {
    return TensorScope.within(() -> conv.forward(Nn.upsampleNearest2x(x)));
  }
}
