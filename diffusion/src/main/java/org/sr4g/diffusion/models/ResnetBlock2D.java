package org.sr4g.diffusion.models;

import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * diffusers {@code ResnetBlock2D} ({@code <prefix>.norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut}):
 * {@code x + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb))))}, the skip through a 1×1 conv when
 * the channel count changes. Dropout is the identity at inference and in the fixtures (p = 0).
 */
final class ResnetBlock2D {
  private final GroupNorm norm1, norm2;
  private final Conv2d conv1, conv2, convShortcut;
  private final Linear timeEmbProj;

  /** {@code tembChannels} 0: no time embedding (the VAE's blocks). */
  ResnetBlock2D(ParamLoader p, String prefix, long in, long out, long tembChannels, int groups, double eps) {
    norm1 = new GroupNorm(p, prefix + ".norm1", groups, in, eps);
    conv1 = new Conv2d(p, prefix + ".conv1", in, out, 3, 1, 1);
    timeEmbProj = tembChannels > 0 ? new Linear(p, prefix + ".time_emb_proj", tembChannels, out, true) : null;
    norm2 = new GroupNorm(p, prefix + ".norm2", groups, out, eps);
    conv2 = new Conv2d(p, prefix + ".conv2", out, out, 3, 1, 1);
    convShortcut = in != out ? new Conv2d(p, prefix + ".conv_shortcut", in, out, 1, 1, 0) : null;
  }

  /** temb [B, tembChannels] (null for the VAE). */
  Tensor forward(Tensor x, Tensor temb) {
    return TensorScope.within(() -> compute(x, temb)); // the block's temporaries die with it
  }

  private Tensor compute(Tensor x, Tensor temb) {
    Tensor h = conv1.forward(norm1.forward(x).silu());
    if (timeEmbProj != null) {
      Tensor t = timeEmbProj.forward(temb.silu());
      h = h.add(t.reshape(t.size(0), t.size(1), 1, 1));
    }
    h = conv2.forward(norm2.forward(h).silu());
    Tensor skip = convShortcut != null ? convShortcut.forward(x) : x;
    return skip.add(h);
  }
}
