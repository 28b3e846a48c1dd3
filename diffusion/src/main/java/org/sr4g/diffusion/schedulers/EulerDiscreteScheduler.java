package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.Tensor;

/**
 * diffusers {@code EulerDiscreteScheduler} (Karras et al. Algorithm 2 with {@code s_churn = 0}: deterministic Euler).
 * Works in the sigma parameterisation {@code sigma = sqrt((1 - acp) / acp)}; inference sigmas are interpolated
 * linearly (in float64, as {@code np.interp}) at possibly non-integer timesteps, and the model input is scaled by
 * {@code 1 / sqrt(sigma^2 + 1)}.
 */
public final class EulerDiscreteScheduler implements Scheduler {
  private final SchedulerConfig config;
  private final NoiseSchedule schedule;
  /** {@code sqrt((1 - acp) / acp)} per training timestep, float32 as torch computes it. */
  private final float[] trainSigmas;
  private float[] timesteps;
  private float[] sigmas;
  private int stepIndex = -1;

  public EulerDiscreteScheduler(SchedulerConfig config) {
    this.config = config;
    this.schedule = new NoiseSchedule(config);
    float[] acp = schedule.alphasCumprod;
    trainSigmas = new float[acp.length];
    for (int i = 0; i < acp.length; i++) trainSigmas[i] = Elementwise.sqrt((1f - acp[i]) / acp[i]);
    // Before setTimesteps diffusers uses the full training schedule.
    timesteps = new float[acp.length];
    sigmas = new float[acp.length + 1];
    for (int i = 0; i < acp.length; i++) {
      timesteps[i] = (float) Timesteps.numpyLinspace(0, acp.length - 1, acp.length, acp.length - 1 - i);
      sigmas[i] = trainSigmas[acp.length - 1 - i];
    }
  }

  @Override
  public NoiseSchedule schedule() {
    return schedule;
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    int train = config.numTrainTimesteps();
    int n = numInferenceSteps;
    if (n < 1 || n > train) throw new IllegalArgumentException("num_inference_steps " + n + " must be in 1.." + train);
    float[] t = new float[n];
    switch (config.timestepSpacing()) {
      case "linspace" -> {
        // np.linspace(0, train - 1, n, dtype=float32)[::-1]: computed in float64, rounded to float32
        for (int i = 0; i < n; i++) t[n - 1 - i] = (float) Timesteps.numpyLinspace(0, train - 1, n, i);
      }
      case "leading" -> {
        long ratio = train / n;
        for (int i = 0; i < n; i++) t[i] = (float) ((n - 1 - i) * ratio) + config.stepsOffset();
      }
      case "trailing" -> {
        double ratio = (double) train / n;
        for (int i = 0; i < n; i++) t[i] = (float) Math.rint(train - i * ratio) - 1f;
      }
      default -> throw new IllegalStateException(config.timestepSpacing());
    }
    float[] s = new float[n + 1];
    for (int i = 0; i < n; i++) s[i] = (float) interp(t[i]);
    s[n] = config.finalSigmasType().equals("sigma_min")
        ? (float) Math.sqrt((1 - (double) schedule.alphasCumprod[0]) / schedule.alphasCumprod[0])
        : 0f;
    this.timesteps = t;
    this.sigmas = s;
    this.stepIndex = -1;
  }

  /** {@code np.interp(x, arange(len), trainSigmas)} in float64. */
  private double interp(double x) {
    int last = trainSigmas.length - 1;
    if (x <= 0) return trainSigmas[0];
    if (x >= last) return trainSigmas[last];
    int j = (int) Math.floor(x);
    if (x == j) return trainSigmas[j];
    double slope = ((double) trainSigmas[j + 1] - trainSigmas[j]) / 1.0;
    return slope * (x - j) + trainSigmas[j];
  }

  @Override
  public float[] timesteps() {
    return timesteps.clone();
  }

  public float[] sigmas() {
    return sigmas.clone();
  }

  /** The largest sigma (the spacing is linspace/trailing), or {@code sqrt(max^2 + 1)} for leading spacing. */
  @Override
  public float initNoiseSigma() {
    float max = 0;
    for (float s : sigmas) max = Math.max(max, s);
    if (config.timestepSpacing().equals("linspace") || config.timestepSpacing().equals("trailing")) return max;
    return Elementwise.sqrt(max * max + 1f);
  }

  /** {@code sqrt(sigma² + 1)} at the current step (found from {@code timestep} on the first call). */
  private float inputDenominator(float timestep) {
    if (stepIndex < 0) stepIndex = indexOf(timestep);
    float sigma = sigmas[stepIndex];
    return Elementwise.sqrt(sigma * sigma + 1f);
  }

  @Override
  public float[] scaleModelInput(float[] sample, float timestep) {
    float denom = inputDenominator(timestep);
    float[] out = new float[sample.length];
    for (int i = 0; i < out.length; i++) out[i] = sample[i] / denom;
    return out;
  }

  @Override
  public Tensor scaleModelInput(Tensor sample, float timestep) {
    return sample.div(inputDenominator(timestep));
  }

  /** diffusers {@code index_for_timestep}: the second match when a timestep repeats, else the first. */
  private int indexOf(float timestep) {
    int first = -1;
    int count = 0;
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] == timestep) {
        if (count == 1) return i;
        if (first < 0) first = i;
        count++;
      }
    }
    if (first < 0) throw new IllegalArgumentException("timestep " + timestep + " is not one of the scheduler's timesteps");
    return first;
  }

  @Override
  public StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise) {
    Elementwise.sameLength(modelOutput, sample);
    if (stepIndex < 0) stepIndex = indexOf(timestep);
    float sigma = sigmas[stepIndex];
    float sigmaHat = sigma * (0f + 1f); // gamma = 0 (s_churn 0)
    float[] predOriginal = new float[sample.length];
    switch (config.predictionType()) {
      case "epsilon" -> {
        for (int i = 0; i < sample.length; i++) predOriginal[i] = sample[i] - sigmaHat * modelOutput[i];
      }
      case "v_prediction" -> {
        float s2p1 = sigma * sigma + 1f;
        float cOut = -sigma / Elementwise.sqrt(s2p1);
        for (int i = 0; i < sample.length; i++) predOriginal[i] = modelOutput[i] * cOut + sample[i] / s2p1;
      }
      case "sample" -> System.arraycopy(modelOutput, 0, predOriginal, 0, sample.length);
      default -> throw new IllegalStateException(config.predictionType());
    }
    float dt = sigmas[stepIndex + 1] - sigmaHat;
    float[] prev = new float[sample.length];
    for (int i = 0; i < sample.length; i++) {
      float derivative = (sample[i] - predOriginal[i]) / sigmaHat;
      prev[i] = sample[i] + derivative * dt;
    }
    stepIndex++;
    return new StepResult(prev, predOriginal);
  }

  /** The tensor form of {@link #step(float[], float, float[], float[])}: the same arithmetic, in the same order. */
  @Override
  public Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise) {
    if (stepIndex < 0) stepIndex = indexOf(timestep);
    float sigma = sigmas[stepIndex];
    float sigmaHat = sigma * (0f + 1f);
    Tensor predOriginal = switch (config.predictionType()) {
      case "epsilon" -> sample.sub(modelOutput.mul(sigmaHat));
      case "v_prediction" -> {
        float s2p1 = sigma * sigma + 1f;
        yield modelOutput.mul(-sigma / Elementwise.sqrt(s2p1)).add(sample.div(s2p1));
      }
      case "sample" -> modelOutput;
      default -> throw new IllegalStateException(config.predictionType());
    };
    float dt = sigmas[stepIndex + 1] - sigmaHat;
    stepIndex++;
    return sample.add(sample.sub(predOriginal).div(sigmaHat).mul(dt));
  }
}
