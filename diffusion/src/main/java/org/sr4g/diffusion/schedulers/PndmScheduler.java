package org.sr4g.diffusion.schedulers;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code PNDMScheduler} in its Stable Diffusion configuration ({@code skip_prk_steps}: PLMS only). A linear
 * multistep method: each step combines up to four past model outputs. The first step is taken twice (the second
 * timestep is repeated in {@link #timesteps()}): once as a plain step, then again from the same sample with the mean
 * of the two outputs, which warms the history up without Runge-Kutta steps.
 */
public final class PndmScheduler implements Scheduler {
  private final SchedulerConfig config;
  private final NoiseSchedule schedule;
  private final float finalAlphaCumprod;
  private long[] timesteps;
  private int numInferenceSteps;
  private final List<float[]> ets = new ArrayList<>();
  private int counter;
  private float[] curSample;

  public PndmScheduler(SchedulerConfig config) {
    if (!config.skipPrkSteps())
      throw new org.sr4g.UserInputException(config.source() + ": PNDMScheduler with skip_prk_steps false (Runge-Kutta "
          + "warm-up) is not supported; Stable Diffusion configs set it to true");
    this.config = config;
    this.schedule = new NoiseSchedule(config);
    this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : schedule.alphasCumprod[0];
  }

  @Override
  public NoiseSchedule schedule() {
    return schedule;
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    long[] base = Timesteps.spaced(config, numInferenceSteps); // descending
    int n = base.length;
    // plms_timesteps = concat(ts[:-1], ts[-2:-1], ts[-1:])[::-1] on the ascending ts: the second-largest repeated.
    long[] t = new long[n + 1];
    if (n == 1) {
      t = new long[] {base[0]};
    } else {
      t[0] = base[0];
      t[1] = base[1];
      t[2] = base[1];
      System.arraycopy(base, 2, t, 3, n - 2);
    }
    this.timesteps = t;
    this.numInferenceSteps = numInferenceSteps;
    ets.clear();
    counter = 0;
    curSample = null;
  }

  public long[] integerTimesteps() {
    return Timesteps.require(timesteps).clone();
  }

  @Override
  public float[] timesteps() {
    return Timesteps.asFloats(Timesteps.require(timesteps));
  }

  @Override
  public StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise) {
    Timesteps.require(timesteps);
    Elementwise.sameLength(modelOutput, sample);
    long stride = config.numTrainTimesteps() / numInferenceSteps;
    long t = (long) timestep;
    long prevT = t - stride;
    if (counter != 1) {
      while (ets.size() > 3) ets.remove(0);
      ets.add(modelOutput.clone());
    } else {
      // The repeated step: go from the same sample, between the same two timesteps as the first step.
      prevT = t;
      t = t + stride;
    }
    int n = modelOutput.length;
    float[] output = new float[n];
    float[] from = sample;
    int k = ets.size();
    if (k == 1 && counter == 0) {
      System.arraycopy(modelOutput, 0, output, 0, n);
      curSample = sample.clone();
    } else if (k == 1 && counter == 1) {
      float[] e1 = ets.get(0);
      for (int i = 0; i < n; i++) output[i] = (modelOutput[i] + e1[i]) / 2f;
      from = curSample;
      curSample = null;
    } else if (k == 2) {
      float[] e1 = ets.get(1), e2 = ets.get(0);
      for (int i = 0; i < n; i++) output[i] = (3f * e1[i] - e2[i]) / 2f;
    } else if (k == 3) {
      float[] e1 = ets.get(2), e2 = ets.get(1), e3 = ets.get(0);
      for (int i = 0; i < n; i++) output[i] = (23f * e1[i] - 16f * e2[i] + 5f * e3[i]) / 12f;
    } else {
      float[] e1 = ets.get(3), e2 = ets.get(2), e3 = ets.get(1), e4 = ets.get(0);
      float oneTwentyFourth = (float) (1.0 / 24);
      for (int i = 0; i < n; i++) output[i] = oneTwentyFourth * (55f * e1[i] - 59f * e2[i] + 37f * e3[i] - 9f * e4[i]);
    }
    float[] prev = previousSample(from, t, prevT, output);
    counter++;
    return new StepResult(prev, null);
  }

  /** Formula (9) of the PNDM paper, in diffusers' float32 order. */
  private float[] previousSample(float[] sample, long t, long prevT, float[] modelOutput) {
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdTPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
    float betaProdT = 1f - alphaProdT;
    float betaProdTPrev = 1f - alphaProdTPrev;
    float[] eps = modelOutput;
    if (config.predictionType().equals("v_prediction")) {
      eps = new float[modelOutput.length];
      float sa = Elementwise.sqrt(alphaProdT), sb = Elementwise.sqrt(betaProdT);
      for (int i = 0; i < eps.length; i++) eps[i] = sa * modelOutput[i] + sb * sample[i];
    } else if (!config.predictionType().equals("epsilon")) {
      throw new org.sr4g.UserInputException(config.source() + ": PNDMScheduler supports prediction_type epsilon and "
          + "v_prediction, not " + config.predictionType());
    }
    float sampleCoeff = Elementwise.sqrt(alphaProdTPrev / alphaProdT);
    float denom = alphaProdT * Elementwise.sqrt(betaProdTPrev) + Elementwise.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
    float diff = alphaProdTPrev - alphaProdT;
    float[] prev = new float[sample.length];
    for (int i = 0; i < prev.length; i++) prev[i] = sampleCoeff * sample[i] - diff * eps[i] / denom;
    return prev;
  }
}
