package org.sr4g.torch;

import java.util.List;

/**
 * Dynamic loss scaling for float16 training, numerically as {@code torch.cuda.amp.GradScaler} (torch.amp.GradScaler):
 * the loss is multiplied by the scale before {@code backward()} so that small float16 gradients do not flush to zero;
 * {@link #unscale} divides the (float32) gradients by it in place — one native call over all of them — and notes
 * whether any element is inf or NaN; {@link #step} then skips the optimizer step if so; {@link #update} halves the
 * scale after an overflow (backoff) and doubles it after {@code growthInterval} consecutive clean steps.
 *
 * <pre>{@code
 * scaler.scale(loss).backward();
 * scaler.unscale(params);                 // before clipping, so the norm is the true one
 * if (!scaler.foundInf()) Autograd.clipGradNorm(params, 1.0);
 * boolean stepped = scaler.step(opt);     // AdamW.step() unless a gradient was inf/NaN
 * scaler.update();
 * }</pre>
 *
 * <p>The scale is a float32 value (torch keeps it in a one-element float32 tensor); growth and backoff are computed in
 * double and rounded to float as torch's {@code _amp_update_scale_} kernel does, and a grown scale that would be
 * infinite is not taken. The state to checkpoint is {@link #scale()} and {@link #growthTracker()}
 * ({@link #loadState}). Works on CPU tensors too (the check is {@code isfinite} there, torch's fused kernel on CUDA).
 */
public final class GradScaler {
  private final double growthFactor;
  private final double backoffFactor;
  private final int growthInterval;
  private float scale;
  private int growthTracker;
  /** Per-step state, reset by update(): whether unscale ran, and what it found. */
  private boolean unscaled, foundInf;

  /** torch's defaults: init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000. */
  public GradScaler() {
    this(65536f, 2.0, 0.5, 2000);
  }

  public GradScaler(float initScale, double growthFactor, double backoffFactor, int growthInterval) {
    if (!(initScale > 0) || Float.isInfinite(initScale)) throw new IllegalArgumentException("init scale must be positive");
    if (!(growthFactor > 1)) throw new IllegalArgumentException("growth factor must be > 1");
    if (!(backoffFactor > 0 && backoffFactor < 1)) throw new IllegalArgumentException("backoff factor must be in (0, 1)");
    if (growthInterval < 1) throw new IllegalArgumentException("growth interval must be >= 1");
    this.scale = initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
  }

  /** {@code loss × scale} (a new tensor in the current scope); call {@code backward()} on it. */
  public Tensor scale(Tensor loss) {
    return loss.mul(scale);
  }

  /**
   * Divides the gradients of {@code params} by the scale in place (multiplies by the float32 reciprocal, as torch) and
   * returns whether any gradient holds an inf or NaN. At most once per step: a second call throws, as torch's does.
   */
  public boolean unscale(List<Tensor> params) {
    if (unscaled) throw new IllegalStateException("unscale() has already been called since the last update()");
    float inv = (float) (1.0 / (double) scale);
    Native.Scratch s = Native.scratch();
    Native.call(c -> (long) Native.AMP_UNSCALE.invokeExact(s.handles(params.toArray(Tensor[]::new)),
        (long) params.size(), (double) inv, s.outAddr(0)));
    unscaled = true;
    foundInf = s.out.get(java.lang.foreign.ValueLayout.JAVA_INT, 0) != 0;
    return foundInf;
  }

  /** Whether this step's unscale found an inf or NaN (false before unscale). */
  public boolean foundInf() {
    return foundInf;
  }

  /**
   * Unscales {@code opt}'s gradients unless {@link #unscale} already ran this step, then runs {@code opt.step()}
   * unless a gradient was inf/NaN. Returns whether the step ran (false: skipped, parameters and optimizer state
   * untouched).
   */
  public boolean step(AdamW opt) {
    if (!unscaled) unscale(opt.params());
    if (foundInf) return false;
    opt.step();
    return true;
  }

  /** Adjusts the scale from this step's result (torch's _amp_update_scale_) and clears the per-step state. */
  public void update() {
    if (!unscaled) throw new IllegalStateException("update() without unscale()/step() in this step");
    if (foundInf) {
      scale = (float) (scale * backoffFactor);
      growthTracker = 0;
    } else {
      int successful = growthTracker + 1;
      if (successful == growthInterval) {
        float grown = (float) (scale * growthFactor);
        if (Float.isFinite(grown)) scale = grown;
        growthTracker = 0;
      } else {
        growthTracker = successful;
      }
    }
    unscaled = false;
    foundInf = false;
  }

  public float scale() {
    return scale;
  }

  /** Consecutive clean steps since the last growth or backoff. */
  public int growthTracker() {
    return growthTracker;
  }

  public int growthInterval() {
    return growthInterval;
  }

  /** Restores a checkpointed state (between steps). */
  public void loadState(float scale, int growthTracker) {
    if (!(scale > 0) || Float.isInfinite(scale)) throw new IllegalArgumentException("bad loss scale " + scale);
    if (growthTracker < 0 || growthTracker >= growthInterval)
      throw new IllegalArgumentException("bad growth tracker " + growthTracker + " (interval " + growthInterval + ")");
    this.scale = scale;
    this.growthTracker = growthTracker;
    this.unscaled = false;
    this.foundInf = false;
  }
}
