package org.sr4g.diffusion.models;

import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/** Multi-head scaled dot-product attention on already projected q, k, v (no parameters of its own). */
final class Attention {
  private Attention() {}

  /**
   * q [B, Lq, H·d], k and v [B, Lk, H·d] → [B, Lq, H·d]: softmax(q kᵀ / √d) v per head, heads concatenated in order
   * (the layout of torch's MultiheadAttention, CLIP and diffusers' attention processors).
   */
  static Tensor multiHead(Tensor q, Tensor k, Tensor v, int heads, boolean causal) {
    return multiHead(q, k, v, heads, null, causal);
  }

  /** As above with {@code mask} (null, or additive float / bool keep-mask broadcastable to [B, H, Lq, Lk]). */
  static Tensor multiHead(Tensor q, Tensor k, Tensor v, int heads, Tensor mask, boolean causal) {
    long b = q.size(0), lq = q.size(1), lk = k.size(1), inner = q.size(2), d = inner / heads;
    Tensor qh = q.reshape(b, lq, heads, d).permute(0, 2, 1, 3);
    Tensor kh = k.reshape(b, lk, heads, d).permute(0, 2, 1, 3);
    Tensor vh = v.reshape(b, lk, heads, d).permute(0, 2, 1, 3);
    Tensor o = Nn.attention(qh, kh, vh, mask, causal);
    return o.permute(0, 2, 1, 3).reshape(b, lq, inner);
  }
}
