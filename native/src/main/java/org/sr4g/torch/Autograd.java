package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.util.List;

/** Autograd controls that are not tensor methods. libtorch's grad mode is thread-local, like our scopes. */
public final class Autograd {
  private Autograd() {}

  /** A block in which no op records a graph: {@code try (var ng = Autograd.noGrad()) { ... }}. Restores on close. */
  public static ModeGuard noGrad() {
    boolean previous = setGradEnabled(false);
    return new Restore(previous);
  }

  private record Restore(boolean previous) implements ModeGuard {
    @Override
    public void close() {
      setGradEnabled(previous);
    }
  }

  /** Sets this thread's grad mode and returns the previous one. */
  public static boolean setGradEnabled(boolean on) {
    Native.require();
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.SET_GRAD_ENABLED.invokeExact(on ? 1 : 0, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return s.out.get(JAVA_INT, 0) != 0;
  }

  public static void zeroGrad(List<Tensor> params) {
    if (params.isEmpty()) return;
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.ZERO_GRAD.invokeExact(s.handles(params.toArray(Tensor[]::new)), (long) params.size()));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /**
   * Scales all gradients so that their global L2 norm is at most {@code maxNorm} (torch.nn.utils.clip_grad_norm_).
   * Returns the norm before clipping.
   */
  public static double clipGradNorm(List<Tensor> params, double maxNorm) {
    Native.Scratch s = Native.scratch();
    try {
      Native.check((long) Native.CLIP_GRAD_NORM.invokeExact(s.handles(params.toArray(Tensor[]::new)),
          (long) params.size(), maxNorm, s.outAddr(0)));
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
    return Double.longBitsToDouble(s.out(0));
  }
}
