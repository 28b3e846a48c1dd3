package org.sr4g.torch;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
    Native.call(c -> (long) Native.SET_GRAD_ENABLED.invokeExact(on ? 1 : 0, s.outAddr(0)));
    return s.out.get(JAVA_INT, 0) != 0;
  }

  /** This thread's grad mode (false inside {@link #noGrad()}). */
  public static boolean isGradEnabled() {
    boolean on = setGradEnabled(true);
    if (!on) setGradEnabled(false);
    return on;
  }

  /**
   * {@code torch.autograd.backward(outputs, grads)}: one backward pass from several outputs at once, {@code grads.get(i)}
   * being the gradient of the final loss with respect to {@code outputs.get(i)} (same shape, dtype and device).
   * Gradients accumulate into the {@code .grad} of every leaf that requires it, as {@link Tensor#backward()} does.
   * {@code grads} may be null, or hold nulls, for one-element outputs (gradient 1). A mismatched gradient is a
   * {@link TorchException} and nothing is accumulated. Gradient checkpointing uses it to back-propagate a recomputed
   * segment from the gradients its outputs received.
   */
  public static void backward(List<Tensor> outputs, List<Tensor> grads) {
    int n = outputs.size();
    if (n == 0) throw new IllegalArgumentException("backward: no outputs");
    if (grads != null && grads.size() != n)
      throw new IllegalArgumentException("backward: " + n + " outputs but " + grads.size() + " gradients");
    Native.Scratch s = Native.scratch();
    s.ensure(2L * n); // outputs in longs[0, n), gradients in longs[n, 2n) (0 = none)
    for (int i = 0; i < n; i++) {
      s.longs.setAtIndex(JAVA_LONG, i, outputs.get(i).handle());
      Tensor g = grads == null ? null : grads.get(i);
      s.longs.setAtIndex(JAVA_LONG, n + i, g == null ? 0L : g.handle());
    }
    Native.call(c -> (long) Native.BACKWARD_WITH.invokeExact(s.longsAddr, s.longsAddr + 8L * n, (long) n));
  }

  public static void zeroGrad(List<Tensor> params) {
    if (params.isEmpty()) return;
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.ZERO_GRAD.invokeExact(s.handles(params.toArray(Tensor[]::new)),
        (long) params.size()));
  }

  /**
   * Scales all gradients so that their global L2 norm is at most {@code maxNorm} (torch.nn.utils.clip_grad_norm_).
   * Returns the norm before clipping.
   */
  public static double clipGradNorm(List<Tensor> params, double maxNorm) {
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.CLIP_GRAD_NORM.invokeExact(s.handles(params.toArray(Tensor[]::new)),
        (long) params.size(), maxNorm, s.outAddr(0)));
    return Double.longBitsToDouble(s.out(0));
  }
}
