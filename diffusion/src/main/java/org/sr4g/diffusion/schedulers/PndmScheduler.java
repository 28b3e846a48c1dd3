package org.sr4g.diffusion.schedulers;

import java.util.ArrayList;
import java.util.List;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

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
  /** The tensor form's history: owned here (outside every scope), freed when dropped, reset or closed. */
  private final List<Tensor> etsT = new ArrayList<>();
  private Tensor curSampleT;

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
    close();
  }

  /** Frees the tensor form's history. */
  @Override
  public void close() {
    for (Tensor t : etsT) t.close();
    etsT.clear();
    if (curSampleT != null) curSampleT.close();
    curSampleT = null;
  }

  /** A handle of {@code t} owned by this scheduler (shares its storage; nothing writes into either). */
  private static Tensor own(Tensor t) {
    return TensorScope.detachFromScope(t.detach());
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

  /** The tensor form of {@link #step(float[], float, float[], float[])}: the same arithmetic, in the same order. */
  @Override
  public Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise) {
    Timesteps.require(timesteps);
    long stride = config.numTrainTimesteps() / numInferenceSteps;
    long t = (long) timestep;
    long prevT = t - stride;
    if (counter != 1) {
      while (etsT.size() > 3) etsT.remove(0).close();
      etsT.add(own(modelOutput));
    } else {
      prevT = t;
      t = t + stride;
    }
    Tensor output;
    Tensor from = sample;
    int k = etsT.size();
    if (k == 1 && counter == 0) {
      output = modelOutput;
      curSampleT = own(sample);
    } else if (k == 1 && counter == 1) {
      output = modelOutput.add(etsT.get(0)).div(2f);
      from = curSampleT;
    } else if (k == 2) {
      output = etsT.get(1).mul(3f).sub(etsT.get(0)).div(2f);
    } else if (k == 3) {
      output = etsT.get(2).mul(23f).sub(etsT.get(1).mul(16f)).add(etsT.get(0).mul(5f)).div(12f);
    } else {
      float oneTwentyFourth = (float) (1.0 / 24);
      output = etsT.get(3).mul(55f).sub(etsT.get(2).mul(59f)).add(etsT.get(1).mul(37f)).sub(etsT.get(0).mul(9f))
          .mul(oneTwentyFourth);
    }
    Tensor prev = previousSample(from, t, prevT, output);
    if (k == 1 && counter == 1) {
      curSampleT.close();
      curSampleT = null;
    }
    counter++;
    return prev;
  }

  private Tensor previousSample(Tensor sample, long t, long prevT, Tensor modelOutput) {
    Formula9 f = formula9(t, prevT);
    Tensor eps = f.v ? modelOutput.mul(f.sqrtAlpha).add(sample.mul(f.sqrtBeta)) : modelOutput;
    return sample.mul(f.sampleCoeff).sub(eps.mul(f.diff).div(f.denom));
  }

  /** The float32 scalars of formula (9) of the PNDM paper, in diffusers' order; {@code v}: v-prediction input. */
  private record Formula9(boolean v, float sqrtAlpha, float sqrtBeta, float sampleCoeff, float diff, float denom) {}

  private Formula9 formula9(long t, long prevT) {
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdTPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
    float betaProdT = 1f - alphaProdT;
    float betaProdTPrev = 1f - alphaProdTPrev;
    boolean v = config.predictionType().equals("v_prediction");
    if (!v && !config.predictionType().equals("epsilon"))
      throw new org.sr4g.UserInputException(config.source() + ": PNDMScheduler supports prediction_type epsilon and "
          + "v_prediction, not " + config.predictionType());
    float sampleCoeff = Elementwise.sqrt(alphaProdTPrev / alphaProdT);
    float denom = alphaProdT * Elementwise.sqrt(betaProdTPrev) + Elementwise.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
    return new Formula9(v, Elementwise.sqrt(alphaProdT), Elementwise.sqrt(betaProdT), sampleCoeff,
        alphaProdTPrev - alphaProdT, denom);
  }

  /** Formula (9) of the PNDM paper, in diffusers' float32 order. */
  private float[] previousSample(float[] sample, long t, long prevT, float[] modelOutput) {
    Formula9 f = formula9(t, prevT);
    float[] eps = modelOutput;
    if (f.v) {
      eps = new float[modelOutput.length];
      for (int i = 0; i < eps.length; i++) eps[i] = f.sqrtAlpha * modelOutput[i] + f.sqrtBeta * sample[i];
    }
    float[] prev = new float[sample.length];
    for (int i = 0; i < prev.length; i++) prev[i] = f.sampleCoeff * sample[i] - f.diff * eps[i] / f.denom;
    return prev;
  }
}
