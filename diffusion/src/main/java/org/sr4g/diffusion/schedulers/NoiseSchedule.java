package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.DType;
import org.sr4g.torch.Tensor;

/**
 * The training noise schedule shared by every scheduler: {@code betas}, {@code alphas = 1 - betas} and
 * {@code alphas_cumprod}, computed in float32 exactly as diffusers does with PyTorch (including torch's float32
 * {@code linspace} and its double-accumulated {@code cumprod}), so that the schedulers built on it reproduce the
 * reference to the last bits rather than to a float64 approximation.
 */
public final class NoiseSchedule {
  final float[] betas;
  final float[] alphas;
  final float[] alphasCumprod;

  NoiseSchedule(SchedulerConfig c) {
    int n = c.numTrainTimesteps();
    if (c.trainedBetas() != null) {
      betas = new float[n];
      for (int i = 0; i < n; i++) betas[i] = (float) c.trainedBetas()[i];
    } else {
      betas = switch (c.betaSchedule()) {
        case "linear" -> torchLinspace((float) c.betaStart(), (float) c.betaEnd(), n);
        case "scaled_linear" -> {
          float[] r = torchLinspace((float) Math.sqrt(c.betaStart()), (float) Math.sqrt(c.betaEnd()), n);
          for (int i = 0; i < n; i++) r[i] = r[i] * r[i];
          yield r;
        }
        case "squaredcos_cap_v2" -> squaredCos(n);
        default -> throw new IllegalStateException("validated in SchedulerConfig: " + c.betaSchedule());
      };
    }
    alphas = new float[n];
    for (int i = 0; i < n; i++) alphas[i] = 1f - betas[i];
    alphasCumprod = new float[n];
    // torch.cumprod on CPU accumulates float32 input in double (acc_type), rounding each output.
    double acc = 1;
    for (int i = 0; i < n; i++) {
      acc *= alphas[i];
      alphasCumprod[i] = (float) acc;
    }
  }

  /**
   * {@code torch.linspace(start, end, steps, dtype=float32)} as PyTorch's AVX2 CPU kernel computes it: float32 step;
   * the first half counted up from {@code start}, the second half down from {@code end}; in 8-lane chunks whose first
   * element is {@code fma(step, idx, start)} (or {@code fma(-step, steps - idx - 1, end)}) and whose lanes are
   * {@code fma(i, step, base)} (GCC contracts these multiply-adds into FMAs). This reproduces the reference betas bit
   * for bit; plain multiply-then-add differs in the last bit for about an eighth of them.
   */
  static float[] torchLinspace(float start, float end, int steps) {
    float[] out = new float[steps];
    if (steps == 1) {
      out[0] = start;
      return out;
    }
    float step = (end - start) / (float) (steps - 1);
    int halfway = steps / 2;
    final int lanes = 8;
    int vectorEnd = steps / lanes * lanes;
    for (int idx = 0; idx < vectorEnd; idx += lanes) {
      float base = linspaceElement(start, end, step, steps, halfway, idx);
      for (int i = 0; i < lanes; i++) out[idx + i] = Math.fma((float) i, step, base);
    }
    for (int idx = vectorEnd; idx < steps; idx++) out[idx] = linspaceElement(start, end, step, steps, halfway, idx);
    return out;
  }

  private static float linspaceElement(float start, float end, float step, int steps, int halfway, int idx) {
    return idx < halfway ? Math.fma(step, (float) idx, start) : Math.fma(-step, (float) (steps - idx - 1), end);
  }

  /** diffusers {@code betas_for_alpha_bar} (cosine), computed in double, stored as float32. */
  private static float[] squaredCos(int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      double t1 = (double) i / n;
      double t2 = (double) (i + 1) / n;
      out[i] = (float) Math.min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
    }
    return out;
  }

  private static double alphaBar(double t) {
    double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  public int numTrainTimesteps() {
    return betas.length;
  }

  public float[] betas() {
    return betas.clone();
  }

  public float[] alphas() {
    return alphas.clone();
  }

  public float[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  /**
   * {@code add_noise}: {@code sqrt(acp[t]) * x0 + sqrt(1 - acp[t]) * noise}, one timestep per batch element (the
   * arrays hold {@code timesteps.length} equally sized elements, row-major).
   */
  public float[] addNoise(float[] x0, float[] noise, long[] timesteps) {
    return perBatch(x0, noise, timesteps, false);
  }

  /** {@code get_velocity}: {@code sqrt(acp[t]) * noise - sqrt(1 - acp[t]) * x0}, per batch element. */
  public float[] velocity(float[] x0, float[] noise, long[] timesteps) {
    return perBatch(x0, noise, timesteps, true);
  }

  private float[] perBatch(float[] x0, float[] noise, long[] timesteps, boolean velocity) {
    Elementwise.sameLength(x0, noise);
    if (timesteps.length == 0 || x0.length % timesteps.length != 0)
      throw new IllegalArgumentException(x0.length + " values do not split into " + timesteps.length + " batch elements");
    int per = x0.length / timesteps.length;
    float[] out = new float[x0.length];
    for (int b = 0; b < timesteps.length; b++) {
      float acp = alphaCumprod(timesteps[b]);
      float sqrtAlpha = Elementwise.sqrt(acp);
      float sqrtOneMinus = Elementwise.sqrt(1f - acp);
      for (int i = b * per; i < (b + 1) * per; i++)
        out[i] = velocity ? sqrtAlpha * noise[i] - sqrtOneMinus * x0[i] : sqrtAlpha * x0[i] + sqrtOneMinus * noise[i];
    }
    return out;
  }

  /**
   * {@link #addNoise(float[], float[], long[])} on tensors of shape {@code [B, ...]} on any device, one timestep per
   * batch element: the latents never leave the device (the trainer's step on a GPU). Bit-identical to the array form
   * on the CPU: the coefficients are the same float32 square roots, and each element is one float32 multiply per term
   * and one add, as there (tested).
   */
  public Tensor addNoise(Tensor x0, Tensor noise, long[] timesteps) {
    Tensor[] c = coefficients(x0, timesteps);
    return x0.mul(c[0]).add(noise.mul(c[1]));
  }

  /** {@link #velocity(float[], float[], long[])} on device tensors, as {@link #addNoise(Tensor, Tensor, long[])}. */
  public Tensor velocity(Tensor x0, Tensor noise, long[] timesteps) {
    Tensor[] c = coefficients(x0, timesteps);
    return noise.mul(c[0]).sub(x0.mul(c[1]));
  }

  /** sqrt(acp[t]) and sqrt(1 - acp[t]) per batch element, shaped [B, 1, ...] to broadcast over x0, on x0's device. */
  private Tensor[] coefficients(Tensor x0, long[] timesteps) {
    long[] shape = x0.shape();
    if (shape.length == 0 || shape[0] != timesteps.length)
      throw new IllegalArgumentException("tensor of shape " + java.util.Arrays.toString(shape) + " does not hold "
          + timesteps.length + " batch elements");
    if (x0.dtype() != DType.F32) throw new IllegalArgumentException("add_noise works in float32, got " + x0.dtype());
    float[] sqrtAlpha = new float[timesteps.length], sqrtOneMinus = new float[timesteps.length];
    for (int b = 0; b < timesteps.length; b++) {
      float acp = alphaCumprod(timesteps[b]);
      sqrtAlpha[b] = Elementwise.sqrt(acp);
      sqrtOneMinus[b] = Elementwise.sqrt(1f - acp);
    }
    long[] cs = new long[shape.length];
    java.util.Arrays.fill(cs, 1);
    cs[0] = timesteps.length;
    return new Tensor[] {Tensor.of(sqrtAlpha, cs).to(x0.device()), Tensor.of(sqrtOneMinus, cs).to(x0.device())};
  }

  float alphaCumprod(long t) {
    if (t < 0 || t >= alphasCumprod.length)
      throw new IllegalArgumentException("timestep " + t + " outside 0.." + (alphasCumprod.length - 1));
    return alphasCumprod[(int) t];
  }
}
