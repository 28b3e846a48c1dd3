package org.sr4g.diffusion.training;

import org.sr4g.diffusion.schedulers.NoiseSchedule;
import org.sr4g.torch.Nn;
import org.sr4g.torch.Tensor;

/**
 * The denoising objective of one micro-batch, as diffusers' {@code train_text_to_image.py} computes it, without any
 * random draw of its own (the caller passes the noise it drew), so it is a function of its inputs: the noise with
 * {@code noise_offset}, the noisy latents ({@code add_noise}), the target (ε or v), the Min-SNR-γ weights and the
 * (weighted) MSE. Tested against diffusers 0.31's training step ({@code ../shared/golden/train_step}).
 */
public final class DiffusionLoss {
  private final NoiseSchedule schedule;
  private final PredictionType prediction;
  private final double snrGamma, noiseOffset;

  /** {@code snrGamma} 0: plain MSE; {@code noiseOffset} 0: no offset draw. */
  public DiffusionLoss(NoiseSchedule schedule, PredictionType prediction, double snrGamma, double noiseOffset) {
    this.schedule = schedule;
    this.prediction = prediction;
    this.snrGamma = snrGamma;
    this.noiseOffset = noiseOffset;
  }

  public PredictionType prediction() {
    return prediction;
  }

  /** Timesteps are drawn uniformly from {@code [0, numTimesteps())}. */
  public int numTimesteps() {
    return schedule.alphasCumprod().length;
  }

  /** True when {@link #noise} needs the per-(example, channel) draw of shape {@code [B, C, 1, 1]}. */
  public boolean usesNoiseOffset() {
    return noiseOffset > 0;
  }

  /** {@code noise + noise_offset · offsetDraw} (the draw {@code [B, C, 1, 1]} broadcast over H, W); the noise without offset. */
  public Tensor noise(Tensor noise, Tensor offsetDraw) {
    return usesNoiseOffset() ? noise.add(offsetDraw.mul(noiseOffset)) : noise;
  }

  /** {@code sqrt(ᾱ_t)·latents + sqrt(1−ᾱ_t)·noise} per example (the scheduler's float32 {@code add_noise}). */
  public Tensor noisyLatents(Tensor latents, Tensor noise, long[] timesteps) {
    return schedule.addNoise(latents, noise, timesteps);
  }

  /** The noise (epsilon) or the velocity {@code sqrt(ᾱ_t)·noise − sqrt(1−ᾱ_t)·latents} (v_prediction). */
  public Tensor target(Tensor latents, Tensor noise, long[] timesteps) {
    return prediction == PredictionType.EPSILON ? noise : schedule.velocity(latents, noise, timesteps);
  }

  /** The signal-to-noise ratio {@code ᾱ_t / (1 − ᾱ_t)} per example, in double from the float32 schedule. */
  public double[] snr(long[] timesteps) {
    float[] acp = schedule.alphasCumprod();
    double[] snr = new double[timesteps.length];
    for (int i = 0; i < snr.length; i++) {
      double a = acp[(int) timesteps[i]];
      snr[i] = a / (1 - a);
    }
    return snr;
  }

  /**
   * Min-SNR-γ weights (Hang et al. 2023) as diffusers: {@code min(snr, γ)/snr} for epsilon, {@code min(snr, γ)/(snr + 1)}
   * for v_prediction; null when γ is 0 (off).
   */
  public float[] weights(long[] timesteps) {
    if (!(snrGamma > 0)) return null;
    double[] snr = snr(timesteps);
    float[] w = new float[snr.length];
    for (int i = 0; i < w.length; i++)
      w[i] = (float) (Math.min(snr[i], snrGamma) / (prediction == PredictionType.EPSILON ? snr[i] : snr[i] + 1));
    return w;
  }

  /** Mean over C, H, W of {@code (pred − target)²}: one value per example. */
  public static Tensor msePerExample(Tensor pred, Tensor target) {
    return pred.sub(target).square().mean(false, 1, 2, 3);
  }

  /**
   * The loss of a float32 prediction: the MSE over all elements, or with Min-SNR-γ the mean over the examples of
   * {@link #msePerExample} × {@link #weights}.
   */
  public Tensor loss(Tensor pred, Tensor target, long[] timesteps) {
    float[] w = weights(timesteps);
    if (w == null) return Nn.mseLoss(pred, target);
    return msePerExample(pred, target).mul(Tensor.of(w, w.length).to(pred.device())).mean();
  }
}
