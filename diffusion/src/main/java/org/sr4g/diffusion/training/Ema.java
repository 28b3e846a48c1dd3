package org.sr4g.diffusion.training;

import java.util.LinkedHashMap;
import java.util.Map;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Exponential moving average of the UNet weights, as diffusers' {@code EMAModel} with its defaults (no warm-up
 * power, update_after_step 0): after optimizer step {@code n}, {@code d = min(decay, (1 + k)/(10 + k))} with
 * {@code k = n − 1} ({@code d = 0} at the first step, so the average starts as a copy), and
 * {@code shadow −= (1 − d)(shadow − param)}. The shadow tensors are owned here (outside every scope), detached.
 */
public final class Ema implements AutoCloseable {
  private final Map<String, Tensor> shadow = new LinkedHashMap<>();
  private final double decay;

  public Ema(Map<String, Tensor> params, double decay) {
    this.decay = decay;
    try (ModeGuard ng = Autograd.noGrad(); TensorScope s = TensorScope.open()) { // frees the detach() views
      for (Map.Entry<String, Tensor> e : params.entrySet())
        shadow.put(e.getKey(), TensorScope.detachFromScope(e.getValue().detach().copy()));
    }
  }

  static double decayAt(double decay, long optimizationStep) {
    long k = optimizationStep - 1;
    if (k <= 0) return 0.0;
    return Math.min(decay, (1.0 + k) / (10.0 + k));
  }

  /** The update after optimizer step {@code optimizationStep} (1-based). */
  public void update(Map<String, Tensor> params, long optimizationStep) {
    double oneMinus = 1.0 - decayAt(decay, optimizationStep);
    try (ModeGuard ng = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
      for (Map.Entry<String, Tensor> e : shadow.entrySet()) {
        Tensor sh = e.getValue();
        sh.copyFrom(sh.sub(sh.sub(params.get(e.getKey())).mul(oneMinus)));
      }
    }
  }

  /**
   * Sampling with the average, as diffusers' {@code ema_unet.store(...); ema_unet.copy_to(...); …;
   * ema_unet.restore(...)}: copies the raw weights (owned by the returned map), then the average into {@code params}.
   * Give the map to {@link #restore} afterwards, which puts the raw weights back bit for bit.
   */
  public Map<String, Tensor> swapIn(Map<String, Tensor> params) {
    Map<String, Tensor> raw = new LinkedHashMap<>();
    try (ModeGuard ng = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
      for (Map.Entry<String, Tensor> e : shadow.entrySet()) {
        Tensor p = params.get(e.getKey());
        raw.put(e.getKey(), TensorScope.detachFromScope(p.detach().copy()));
        p.copyFrom(e.getValue());
      }
    } catch (RuntimeException failure) {
      // E.g. out of memory for a copy: put back what was swapped so far and free the copies, then fail.
      try {
        restore(params, raw);
      } catch (RuntimeException second) {
        failure.addSuppressed(second);
      }
      throw failure;
    }
    return raw;
  }

  /** Copies {@code raw} (from {@link #swapIn}) back into {@code params} and frees it. */
  public static void restore(Map<String, Tensor> params, Map<String, Tensor> raw) {
    try (ModeGuard ng = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
      for (Map.Entry<String, Tensor> e : raw.entrySet()) params.get(e.getKey()).copyFrom(e.getValue());
    } finally {
      for (Tensor t : raw.values()) t.close();
    }
  }

  public Map<String, Tensor> named() {
    return java.util.Collections.unmodifiableMap(shadow);
  }

  @Override
  public void close() {
    for (Tensor t : shadow.values()) t.close();
    shadow.clear();
  }
}
