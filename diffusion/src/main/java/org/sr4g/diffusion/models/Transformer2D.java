package org.sr4g.diffusion.models;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * diffusers {@code Transformer2DModel} as SD uses it ({@code <prefix>.norm, proj_in, transformer_blocks.{k}, proj_out}):
 * GroupNorm (eps 1e-6), projection in (1×1 conv, or linear when {@code use_linear_projection}), transformer blocks
 * over the H·W tokens, projection out, plus the input.
 */
final class Transformer2D {
  private final GroupNorm norm;
  private final Conv2d projInConv, projOutConv;
  private final Linear projInLinear, projOutLinear;
  private final List<BasicTransformerBlock> blocks = new ArrayList<>();

  Transformer2D(ParamLoader p, String prefix, long channels, int heads, int layers, long crossDim, int groups,
      boolean linearProjection) {
    norm = new GroupNorm(p, prefix + ".norm", groups, channels, 1e-6);
    projInConv = linearProjection ? null : new Conv2d(p, prefix + ".proj_in", channels, channels, 1, 1, 0);
    projInLinear = linearProjection ? new Linear(p, prefix + ".proj_in", channels, channels, true) : null;
    for (int k = 0; k < layers; k++)
      blocks.add(new BasicTransformerBlock(p, prefix + ".transformer_blocks." + k, channels, heads, crossDim));
    projOutConv = linearProjection ? null : new Conv2d(p, prefix + ".proj_out", channels, channels, 1, 1, 0);
    projOutLinear = linearProjection ? new Linear(p, prefix + ".proj_out", channels, channels, true) : null;
  }

  /** x [B, C, H, W], context [B, L, cross_attention_dim]. */
  Tensor forward(Tensor x, Tensor context) {
    return TensorScope.within(() -> compute(x, context)); // the block's temporaries die with it
  }

  private Tensor compute(Tensor x, Tensor context) {
    long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    Tensor t = norm.forward(x);
    if (projInConv != null) t = projInConv.forward(t);
    t = t.permute(0, 2, 3, 1).reshape(b, h * w, c);
    if (projInLinear != null) t = projInLinear.forward(t);
    for (BasicTransformerBlock block : blocks) {
      Tensor in = t;
      t = TensorScope.within(() -> block.forward(in, context));
    }
    if (projOutLinear != null) t = projOutLinear.forward(t);
    t = t.reshape(b, h, w, c).permute(0, 3, 1, 2);
    if (projOutConv != null) t = projOutConv.forward(t.contiguous());
    return t.add(x);
  }

  /**
   * {@code transformer_blocks.{k}}: pre-LN self-attention ({@code attn1}), cross-attention on the text ({@code attn2})
   * and a GEGLU feed-forward ({@code ff.net.0.proj}, {@code ff.net.2}), each with a residual.
   */
  private static final class BasicTransformerBlock {
    private final LayerNorm norm1, norm2, norm3;
    private final CrossAttention attn1, attn2;
    private final Linear ffProj, ffOut;

    BasicTransformerBlock(ParamLoader p, String prefix, long dim, int heads, long crossDim) {
      norm1 = new LayerNorm(p, prefix + ".norm1", dim, 1e-5);
      attn1 = new CrossAttention(p, prefix + ".attn1", dim, dim, heads);
      norm2 = new LayerNorm(p, prefix + ".norm2", dim, 1e-5);
      attn2 = new CrossAttention(p, prefix + ".attn2", dim, crossDim, heads);
      norm3 = new LayerNorm(p, prefix + ".norm3", dim, 1e-5);
      ffProj = new Linear(p, prefix + ".ff.net.0.proj", dim, dim * 8, true); // GEGLU: value and gate, 4·dim each
      ffOut = new Linear(p, prefix + ".ff.net.2", dim * 4, dim, true);
    }

    Tensor forward(Tensor x, Tensor context) {
      Tensor n1 = norm1.forward(x);
      x = x.add(attn1.forward(n1, n1));
      x = x.add(attn2.forward(norm2.forward(x), context));
      List<Tensor> hg = ffProj.forward(norm3.forward(x)).chunk(2, -1);
      // GEGLU with the exact (erf) GELU on the gate half.
      return x.add(ffOut.forward(hg.get(0).mul(hg.get(1).gelu())));
    }
  }

  /** diffusers {@code Attention} ({@code to_q, to_k, to_v} without bias, {@code to_out.0} with bias). */
  private static final class CrossAttention {
    private final Linear toQ, toK, toV, toOut;
    private final int heads;

    CrossAttention(ParamLoader p, String prefix, long dim, long contextDim, int heads) {
      toQ = new Linear(p, prefix + ".to_q", dim, dim, false);
      toK = new Linear(p, prefix + ".to_k", contextDim, dim, false);
      toV = new Linear(p, prefix + ".to_v", contextDim, dim, false);
      toOut = new Linear(p, prefix + ".to_out.0", dim, dim, true);
      this.heads = heads;
    }

    Tensor forward(Tensor x, Tensor context) {
      Tensor a = Nn.multiHeadAttention(toQ.forward(x), toK.forward(context), toV.forward(context), heads, null, false);
      return toOut.forward(a);
    }
  }
}
