package org.sr4g.torch;

/** The layer-level ops Stable Diffusion's UNet, VAE and CLIP need. Optional tensors (bias, mask) may be null. */
public final class Nn {
  private Nn() {}

  private static long h(Tensor t) {
    return t == null ? 0 : t.handle();
  }

  /**
   * x · wᵀ + b (torch.nn.functional.linear). Inside {@link BatchInvariant#call} one sample (index of dim 0) at a time,
   * so that a sample's result does not depend on the others in its batch.
   */
  public static Tensor linear(Tensor x, Tensor w, Tensor b) {
    if (BatchInvariant.active())
      return Native.tensor(s -> (long) Native.LINEAR_PER_SAMPLE.invokeExact(x.handle(), w.handle(), h(b), s.outAddr(0)));
    return Native.tensor(s -> (long) Native.LINEAR.invokeExact(x.handle(), w.handle(), h(b), s.outAddr(0)));
  }

  /**
   * torch.nn.functional.conv2d with square stride and padding. {@code w} is a dense weight or one packed by
   * {@link #packConv2d} for the same stride, padding and groups.
   */
  public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding, int groups) {
    return Native.tensor(s -> (long) Native.CONV2D.invokeExact(x.handle(), w.handle(), h(b), (long) stride,
        (long) stride, (long) padding, (long) padding, (long) groups, s.outAddr(0)));
  }

  /**
   * A CPU float32/bfloat16 conv weight reordered once into oneDNN's blocked layout for this stride, padding and groups,
   * for inference: {@link #conv2d} then runs oneDNN on it as it is, instead of reordering the dense weight on every
   * call (~40 % of an SD 1.5 UNet step on the CPU). 3×3 convolutions give the same values as the dense path; 1×1 ones
   * differ by ~1e-6 relative (another oneDNN kernel). With a CPU input of another dtype, under autocast or when a
   * gradient is needed, {@link #conv2d} recovers the dense values and runs the plain path. A packed tensor is usable
   * only as a conv weight ({@link Tensor#toFloatArray()} reads it back dense); writes into it fail.
   */
  public static Tensor packConv2d(Tensor w, int stride, int padding, int groups) {
    return Native.tensor(s -> (long) Native.CONV2D_PACK.invokeExact(w.handle(), (long) stride, (long) stride,
        (long) padding, (long) padding, (long) groups, s.outAddr(0)));
  }

  /** Whether {@code t} is a weight packed by {@link #packConv2d}. */
  public static boolean isPacked(Tensor t) {
    return Native.flag(s -> (long) Native.IS_PACKED.invokeExact(t.handle(), s.outAddr(0)));
  }

  public static Tensor groupNorm(Tensor x, int groups, Tensor w, Tensor b, double eps) {
    return Native.tensor(s -> (long) Native.GROUP_NORM.invokeExact(x.handle(), (long) groups, h(w), h(b), eps,
        s.outAddr(0)));
  }

  /** Normalises over the trailing {@code normalizedShape} dimensions. */
  public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor w, Tensor b, double eps) {
    return Native.tensor(s -> (long) Native.LAYER_NORM.invokeExact(x.handle(), s.longs(normalizedShape),
        (long) normalizedShape.length, h(w), h(b), eps, s.outAddr(0)));
  }

  /**
   * softmax(q kᵀ · d^-0.5 + mask) v over the last two dimensions — the one attention every model calls. q
   * {@code [..., Lq, d]}, k {@code [..., Lk, d]}, v {@code [..., Lk, dv]}; {@code mask}: null, bool (true = attend) or
   * float (added), broadcastable to {@code [..., Lq, Lk]}; {@code causal}: query i attends to keys 0..i. libtorch ≥ 2
   * runs {@code at::scaled_dot_product_attention} (flash / memory-efficient kernels on CUDA); 1.x baddbmm with the
   * scale folded in, softmax, bmm (as diffusers' attention processor). Query rows are chunked as
   * {@link AttentionSlicing#current()} says.
   */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
    return attention(q, k, v, mask, causal, AttentionSlicing.current());
  }

  /** {@link #attention(Tensor, Tensor, Tensor, Tensor, boolean)} with an explicit slicing. */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal, AttentionSlicing slicing) {
    Native.Scratch s = Native.call(c -> (long) Native.ATTENTION.invokeExact(q.handle(), k.handle(), v.handle(),
        h(mask), causal ? 1 : 0, slicing.nativeCode(), c.outAddr(1), c.outAddr(0)));
    s.attentionChunks = s.out(1);
    return Tensor.adopt(s);
  }

  /**
   * Multi-head attention on projected tokens: q {@code [B, Lq, H·d]}, k and v {@code [B, Lk, H·d]} →
   * {@code [B, Lq, H·d]}, softmax(q kᵀ / √d + mask) v per head, heads concatenated in order (the layout of torch's
   * MultiheadAttention, CLIP, OWL-ViT and diffusers' attention processors). {@code mask} broadcasts to
   * {@code [B, H, Lq, Lk]}.
   */
  public static Tensor multiHeadAttention(Tensor q, Tensor k, Tensor v, int heads, Tensor mask, boolean causal) {
    long b = q.size(0), lq = q.size(1), lk = k.size(1), inner = q.size(2), d = inner / heads;
    if (inner % heads != 0) throw new IllegalArgumentException(inner + " channels do not split into " + heads + " heads");
    try (TensorScope scope = TensorScope.open()) {
      Tensor qh = q.reshape(b, lq, heads, d).permute(0, 2, 1, 3);
      Tensor kh = k.reshape(b, lk, heads, d).permute(0, 2, 1, 3);
      Tensor vh = v.reshape(b, lk, heads, d).permute(0, 2, 1, 3);
      Tensor o = attention(qh, kh, vh, mask, causal);
      return scope.keep(o.permute(0, 2, 1, 3).reshape(b, lq, inner));
    }
  }

  /** The number of query-row chunks this thread's last {@link #attention} call used (1 = unsliced). */
  public static long lastAttentionChunks() {
    return Native.scratch().attentionChunks;
  }

  public static Tensor embedding(Tensor weight, Tensor indices) {
    return Native.tensor(s -> (long) Native.EMBEDDING.invokeExact(weight.handle(), indices.handle(), s.outAddr(0)));
  }

  /** Nearest-neighbour ×2 upsampling of an NCHW tensor (the UNet/VAE upsamplers). */
  public static Tensor upsampleNearest2x(Tensor x) {
    return Native.tensor(s -> (long) Native.UPSAMPLE2X.invokeExact(x.handle(), s.outAddr(0)));
  }

  /** Mean squared error, mean reduction. */
  public static Tensor mseLoss(Tensor input, Tensor target) {
    return Tensor.binary(Op.Binary.MSE_LOSS, input, target);
  }

  /** beta·input + alpha·(b1 @ b2), batched (attention score computation in diffusers' attention processors). */
  public static Tensor baddbmm(Tensor input, Tensor b1, Tensor b2, double beta, double alpha) {
    return Native.tensor(s -> (long) Native.BADDBMM.invokeExact(input.handle(), b1.handle(), b2.handle(), beta, alpha,
        s.outAddr(0)));
  }
}
