package org.sr4g.diffusion.schedulers;

import java.util.Objects;

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

  @Override
  public StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise) {
    Elementwise.sameLength(modelOutput, sample);
    long t = (long) timestep;
    if (t != timestep) throw new IllegalArgumentException("DDPM timesteps are integers, got " + timestep);
    long prevT = previousTimestep(t);
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdTPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : 1f;
    float betaProdT = 1f - alphaProdT;
    float betaProdTPrev = 1f - alphaProdTPrev;
    float currentAlphaT = alphaProdT / alphaProdTPrev;
    float currentBetaT = 1f - currentAlphaT;

    float[] predOriginal = Prediction.originalSample(config.predictionType(), modelOutput, sample, alphaProdT, betaProdT);

    float predOriginalCoeff = (Elementwise.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
    float currentSampleCoeff = Elementwise.sqrt(currentAlphaT) * betaProdTPrev / betaProdT;
    float[] prev = new float[sample.length];
    for (int i = 0; i < prev.length; i++) prev[i] = predOriginalCoeff * predOriginal[i] + currentSampleCoeff * sample[i];

    if (t > 0) {
      Objects.requireNonNull(noise, "DDPM needs variance noise for t > 0");
      Elementwise.sameLength(noise, sample);
      // variance(t) = (1 - acp[t-1]) / (1 - acp[t]) * beta_t, clamped away from 0
      float variance = Math.max(betaProdTPrev / betaProdT * currentBetaT, 1e-20f);
      float std = Elementwise.sqrt(variance);
      for (int i = 0; i < prev.length; i++) prev[i] = prev[i] + std * noise[i];
    }
    return new StepResult(prev, predOriginal);
  }
}
