package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.Tensor;

/**
 * diffusers {@code DDIMScheduler} with {@code eta = 0} (deterministic DDIM, the SD default): from the predicted clean
 * sample and noise, jump to the previous timestep {@code t - num_train_timesteps / num_inference_steps}.
 */
public final class DdimScheduler implements Scheduler {
  private final SchedulerConfig config;
  private final NoiseSchedule schedule;
  /** alpha-bar used past the last step: 1, or {@code alphas_cumprod[0]} when {@code set_alpha_to_one} is false. */
  private final float finalAlphaCumprod;
  private long[] timesteps;
  private int numInferenceSteps;

  public DdimScheduler(SchedulerConfig config) {
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
    this.timesteps = Timesteps.spaced(config, numInferenceSteps);
    this.numInferenceSteps = numInferenceSteps;
  }

  /** The inference timesteps as integers (diffusers' int64 tensor). */
  public long[] integerTimesteps() {
    return Timesteps.require(timesteps).clone();
  }

  @Override
  public float[] timesteps() {
    return Timesteps.asFloats(Timesteps.require(timesteps));
  }

  /** The float32 scalars of one step from {@code timestep}. */
  private record Coefficients(float alphaProdT, float betaProdT, float sqrtAlphaPrev, float directionCoeff) {}

  private Coefficients coefficients(float timestep) {
    Timesteps.require(timesteps);
    long t = (long) timestep;
    long prevT = t - config.numTrainTimesteps() / numInferenceSteps;
    float alphaProdT = schedule.alphaCumprod(t);
    float alphaProdTPrev = prevT >= 0 ? schedule.alphaCumprod(prevT) : finalAlphaCumprod;
    // eta = 0: std_dev_t = 0, so the direction coefficient is sqrt(1 - acp_prev - 0).
    return new Coefficients(alphaProdT, 1f - alphaProdT, Elementwise.sqrt(alphaProdTPrev),
        Elementwise.sqrt(1f - alphaProdTPrev - 0f));
  }

  @Override
  public StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise) {
    Elementwise.sameLength(modelOutput, sample);
    Coefficients c = coefficients(timestep);
    float[] predOriginal = Prediction.originalSample(config.predictionType(), modelOutput, sample, c.alphaProdT, c.betaProdT);
    float[] predEpsilon = Prediction.epsilon(config.predictionType(), modelOutput, sample, predOriginal, c.alphaProdT, c.betaProdT);
    float[] prev = new float[sample.length];
    for (int i = 0; i < prev.length; i++) prev[i] = c.sqrtAlphaPrev * predOriginal[i] + c.directionCoeff * predEpsilon[i];
    return new StepResult(prev, predOriginal);
  }

  @Override
  public Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise) {
    Coefficients c = coefficients(timestep);
    Tensor predOriginal = Prediction.originalSample(config.predictionType(), modelOutput, sample, c.alphaProdT, c.betaProdT);
    Tensor predEpsilon = Prediction.epsilon(config.predictionType(), modelOutput, sample, predOriginal, c.alphaProdT, c.betaProdT);
    return predOriginal.mul(c.sqrtAlphaPrev).add(predEpsilon.mul(c.directionCoeff));
  }
}
