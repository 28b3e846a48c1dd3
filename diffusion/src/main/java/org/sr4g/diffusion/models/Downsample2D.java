package org.sr4g.diffusion.models;

import java.util.List;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * diffusers {@code Downsample2D} with a conv ({@code <prefix>.conv}, 3×3, stride 2). The UNet pads 1 on every side;
 * the VAE encoder (padding 0) pads only right and bottom by one, as diffusers does with {@code F.pad(x, (0,1,0,1))}.
 */
final class Downsample2D {
  private final Conv2d conv;
  private final boolean asymmetricPad;

  Downsample2D(ParamLoader p, String prefix, long channels, int padding) {
    this.conv = new Conv2d(p, prefix + ".conv", channels, channels, 3, 2, padding);
    this.asymmetricPad = padding == 0;
  }

  Tensor forward(Tensor x) {
    return TensorScope.within(() -> compute(x));
  }

  private Tensor compute(Tensor x) {
    if (asymmetricPad) {
      long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
      Tensor col = Tensor.zeros(x.dtype(), x.device(), b, c, h, 1);
      x = Tensor.cat(List.of(x, col), 3);
      Tensor row = Tensor.zeros(x.dtype(), x.device(), b, c, 1, w + 1);
      x = Tensor.cat(List.of(x, row), 2);
    }
    return conv.forward(x);
  }
}
