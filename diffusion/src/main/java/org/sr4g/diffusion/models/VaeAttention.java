package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * The VAE mid-block attention ({@code <prefix>.group_norm, to_q, to_k, to_v, to_out.0}): single-head self-attention
 * over the H·W positions of a GroupNorm'd feature map, plus the input (residual).
 */
final class VaeAttention {
  private final GroupNorm groupNorm;
  private final Linear toQ, toK, toV, toOut;

  VaeAttention(ParamLoader p, String prefix, long channels, int groups, double eps) {
    groupNorm = new GroupNorm(p, prefix + ".group_norm", groups, channels, eps);
    toQ = new Linear(p, prefix + ".to_q", channels, channels, true);
    toK = new Linear(p, prefix + ".to_k", channels, channels, true);
    toV = new Linear(p, prefix + ".to_v", channels, channels, true);
    toOut = new Linear(p, prefix + ".to_out.0", channels, channels, true);
  }

  Tensor forward(Tensor x) {
    return TensorScope.within(() -> compute(x)); // the block's temporaries (the score matrix among them) die with it
  }

  private Tensor compute(Tensor x) {
    long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    Tensor tokens = groupNorm.forward(x).reshape(b, c, h * w).transpose(1, 2); // [B, HW, C]
    Tensor a = Nn.multiHeadAttention(toQ.forward(tokens), toK.forward(tokens), toV.forward(tokens), 1, null, false);
    Tensor out = toOut.forward(a).transpose(1, 2).reshape(b, c, h, w);
    return out.add(x);
  }
}
