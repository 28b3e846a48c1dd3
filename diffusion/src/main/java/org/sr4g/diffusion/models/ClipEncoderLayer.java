package org.sr4g.diffusion.models;

import org.sr4g.UserInputException;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/**
 * One CLIP transformer layer ({@code <prefix>.layer_norm1}, {@code .self_attn.{q,k,v,out}_proj}, {@code .layer_norm2},
 * {@code .mlp.fc1}, {@code .mlp.fc2}): pre-LN self-attention and MLP, each with a residual. The same block serves
 * CLIP's text tower (causal) and vision towers such as OWL-ViT's (no mask); attention goes through the shared
 * {@link Attention} of the diffusion models.
 */
public final class ClipEncoderLayer {
  private final LayerNorm layerNorm1, layerNorm2;
  private final Linear qProj, kProj, vProj, outProj, fc1, fc2;
  private final int heads;
  private final boolean quickGelu;

  /**
   * @param hiddenAct {@code quick_gelu} (x·σ(1.702x), the OpenAI approximation CLIP was trained with) or {@code gelu}
   *     (exact erf)
   */
  public ClipEncoderLayer(ParamLoader p, String prefix, int width, int intermediate, int heads, String hiddenAct,
      double eps) {
    requireActivation(hiddenAct, prefix);
    layerNorm1 = new LayerNorm(p, prefix + ".layer_norm1", width, eps);
    qProj = new Linear(p, prefix + ".self_attn.q_proj", width, width, true);
    kProj = new Linear(p, prefix + ".self_attn.k_proj", width, width, true);
    vProj = new Linear(p, prefix + ".self_attn.v_proj", width, width, true);
    outProj = new Linear(p, prefix + ".self_attn.out_proj", width, width, true);
    layerNorm2 = new LayerNorm(p, prefix + ".layer_norm2", width, eps);
    fc1 = new Linear(p, prefix + ".mlp.fc1", width, intermediate, true);
    fc2 = new Linear(p, prefix + ".mlp.fc2", intermediate, width, true);
    this.heads = heads;
    this.quickGelu = hiddenAct.equals("quick_gelu");
  }

  /** The activations the layer implements ({@code quick_gelu}, {@code gelu}); anything else is a user error. */
  public static void requireActivation(String hiddenAct, String where) {
    if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu"))
      throw new UserInputException(where + ": hidden_act \"" + hiddenAct + "\" not supported (quick_gelu, gelu)");
  }

  /**
   * x [B, L, width] → [B, L, width]. {@code mask}: null, or an additive float mask broadcastable to [B, heads, L, L];
   * {@code causal}: position i attends to 0..i.
   */
  public Tensor forward(Tensor x, Tensor mask, boolean causal) {
    Tensor h = layerNorm1.forward(x);
    Tensor a = Nn.multiHeadAttention(qProj.forward(h), kProj.forward(h), vProj.forward(h), heads, mask, causal);
    x = x.add(outProj.forward(a));
    Tensor m = fc1.forward(layerNorm2.forward(x));
    m = quickGelu ? m.mul(m.mul(1.702).sigmoid()) : m.gelu();
    return x.add(fc2.forward(m));
  }
}
