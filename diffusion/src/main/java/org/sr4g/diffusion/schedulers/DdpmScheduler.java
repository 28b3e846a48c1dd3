package org.sr4g.diffusion.schedulers;

import java.util.Objects;
import org.sr4g.torch.Tensor;

/**
 * diffusers {@code DDPMScheduler} (variance {@code fixed_small}): ancestral sampling with explicit noise. Without
 * {@link #setTimesteps} the previous timestep of {@code t} is {@code t - 1} (training use); after it, the next entry of
 * the inference timesteps.
 */
public final class DdpmScheduler implements Scheduler {
  private final SchedulerConfig config;
  private final NoiseSchedule schedule;
  private long[] timesteps;

  public DdpmScheduler(SchedulerConfig config) {
    this.config = config;
    this.schedule = new NoiseSchedule(config);
    this.timesteps = null;
  }

  @Override
  public NoiseSchedule schedule() {
    return schedule;
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    timesteps = Timesteps.spaced(config, numInferenceSteps);
  }

  @Override
  public float[] timesteps() {
    long[] t = timesteps;
    if (t == null) {
      t = new long[config.numTrainTimesteps()];
      for (int i = 0; i < t.length; i++) t[i] = t.length - 1 - i;
    }
    return Timesteps.asFloats(t);
  }

  private long previousTimestep(long t) {
    if (timesteps == null) return t - 1;
    for (int i = 0; i < timesteps.length; i++)
      if (timesteps[i] == t) return i == timesteps.length - 1 ? -1 : timesteps[i + 1];
    throw new IllegalArgumentException("timestep " + t + " is not one of the inference timesteps");
  }

  /** Variance noise is added for t &gt; 0 only. */
  @Override
  public boolean needsNoise(float timestep) {
    return timestep > 0;
  }

  /** The float32 scalars of one step from {@code timestep}; {@code std} is the noise scale (0 at t = 0). */
  private record Coefficients(long t, float alphaProdT, float betaProdT, float predOriginalCoeff, float currentSampleCoeff,
      float std) {}

  private Coefficients coefficients(float timestep) {
    long t = (long) timestep;
    if (t != timestep) throw new IllegalArgumentException("DDPM timesteps are integers, got " + timestep);
    long prevT = previousTimestep(t);
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdTPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1f;
    float betaProdT = 1f - alphaProdT;
    float betaProdTPrev = 1f - alphaProdTPrev;
    float currentAlphaT = alphaProdT / alphaProdTPrev;
    float currentBetaT = 1f - currentAlphaT;
    float predOriginalCoeff = (Elementwise.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
    float currentSampleCoeff = Elementwise.sqrt(currentAlphaT) * betaProdTPrev / betaProdT;
    // variance(t) = (1 - acp[t-1]) / (1 - acp[t]) * beta_t, clamped away from 0
    float std = t > 0 ? Elementwise.sqrt(Math.max(betaProdTPrev / betaProdT * currentBetaT, 1e-20f)) : 0f;
    return new Coefficients(t, alphaProdT, betaProdT, predOriginalCoeff, currentSampleCoeff, std);
  }

  @Override
  public StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise) {
    Elementwise.sameLength(modelOutput, sample);
    Coefficients c = coefficients(timestep);
    float[] predOriginal = Prediction.originalSample(config.predictionType(), modelOutput, sample, c.alphaProdT, c.betaProdT);
    float[] prev = new float[sample.length];
    for (int i = 0; i < prev.length; i++) prev[i] = c.predOriginalCoeff * predOriginal[i] + c.currentSampleCoeff * sample[i];
    if (c.t > 0) {
      Objects.requireNonNull(noise, "DDPM needs variance noise for t > 0");
      Elementwise.sameLength(noise, sample);
      for (int i = 0; i < prev.length; i++) prev[i] = prev[i] + c.std * noise[i];
    }
    return new StepResult(prev, predOriginal);
  }

  @Override
  public Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise) {
    Coefficients c = coefficients(timestep);
    Tensor predOriginal = Prediction.originalSample(config.predictionType(), modelOutput, sample, c.alphaProdT, c.betaProdT);
    Tensor prev = predOriginal.mul(c.predOriginalCoeff).add(sample.mul(c.currentSampleCoeff));
    if (c.t == 0) return prev;
    Objects.requireNonNull(noise, "DDPM needs variance noise for t > 0");
    return prev.add(noise.mul(c.std));
  }
}
