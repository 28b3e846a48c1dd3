package org.sr4g.torch;

/** The layer-level ops Stable Diffusion's UNet, VAE and CLIP need. Optional tensors (bias, mask) may be null. */
public final class Nn {
  private Nn() {}

  private static long h(Tensor t) {
    return t == null ? 0 : t.handle();
  }

  /** x · wᵀ + b (torch.nn.functional.linear). */
  public static Tensor linear(Tensor x, Tensor w, Tensor b) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.LINEAR.invokeExact(x.handle(), w.handle(), h(b), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding, int groups) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CONV2D.invokeExact(x.handle(), w.handle(), h(b), (long) stride, (long) stride,
          (long) padding, (long) padding, (long) groups, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  public static Tensor groupNorm(Tensor x, int groups, Tensor w, Tensor b, double eps) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.GROUP_NORM.invokeExact(x.handle(), (long) groups, h(w), h(b), eps, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  /** Normalises over the trailing {@code normalizedShape} dimensions. */
  public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor w, Tensor b, double eps) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.LAYER_NORM.invokeExact(x.handle(), s.longs(normalizedShape),
          (long) normalizedShape.length, h(w), h(b), eps, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  /**
   * softmax(q kᵀ / √d + mask) v over the last two dimensions. {@code mask}: null, bool (true = attend) or float (added).
   * libtorch ≥ 2 runs {@code at::scaled_dot_product_attention} (flash / memory-efficient kernels on CUDA); 1.x the
   * explicit formula.
   */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, Tensor mask, boolean causal) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.ATTENTION.invokeExact(q.handle(), k.handle(), v.handle(), h(mask), causal ? 1 : 0,
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  public static Tensor embedding(Tensor weight, Tensor indices) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.EMBEDDING.invokeExact(weight.handle(), indices.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  /** Nearest-neighbour ×2 upsampling of an NCHW tensor (the UNet/VAE upsamplers). */
  public static Tensor upsampleNearest2x(Tensor x) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.UPSAMPLE2X.invokeExact(x.handle(), s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }

  /** Mean squared error, mean reduction. */
  public static Tensor mseLoss(Tensor input, Tensor target) {
    return Tensor.binary(6, input, target);
  }

  /** beta·input + alpha·(b1 @ b2), batched (attention score computation in diffusers' attention processors). */
  public static Tensor baddbmm(Tensor input, Tensor b1, Tensor b2, double beta, double alpha) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.BADDBMM.invokeExact(input.handle(), b1.handle(), b2.handle(), beta, alpha,
          s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Tensor.adopt(s);
  }
}
