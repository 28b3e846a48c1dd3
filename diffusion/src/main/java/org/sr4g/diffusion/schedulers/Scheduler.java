package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.Tensor;

/**
 * A diffusion sampler in diffusers' calling convention: {@link #setTimesteps}, then for each timestep
 * {@code t} of {@link #timesteps()}: {@code x = scaleModelInput(sample, t)}, {@code eps = unet(x, t)},
 * {@code sample = step(eps, t, sample, noise).prevSample()}. Start from unit Gaussian noise times
 * {@link #initNoiseSigma()}.
 *
 * <p>Two forms of the same arithmetic: on flat float32 arrays (the maths is elementwise; shapes do not matter), the
 * oracles the golden values are checked against; and on {@link Tensor}s, on the latents' device, which sampling uses
 * (no copy to the host per step; bit-identical to the arrays on the CPU, tested). Instances keep state (step index,
 * multistep history): one instance per sampling run, using one form, not thread-safe; {@link #close()} frees the
 * tensors a multistep scheduler keeps.
 */
public interface Scheduler extends AutoCloseable {
  /** The training noise schedule. */
  NoiseSchedule schedule();

  /** Chooses {@code numInferenceSteps} timesteps and resets any state. */
  void setTimesteps(int numInferenceSteps);

  /** The timesteps to call the model with, in order (integral values except for Euler's interpolated ones). */
  float[] timesteps();

  /** Standard deviation of the initial noise. */
  default float initNoiseSigma() {
    return 1f;
  }

  /** The input the model sees at {@code timestep} (identity except for sigma-parameterised schedulers). */
  default float[] scaleModelInput(float[] sample, float timestep) {
    return sample;
  }

  /**
   * One denoising step from {@code timestep}.
   *
   * @param noise fresh unit Gaussian noise shaped like {@code sample}, used only by stochastic schedulers (DDPM); may be
   *     {@code null} for deterministic ones
   */
  StepResult step(float[] modelOutput, float timestep, float[] sample, float[] noise);

  /**
   * {@link #scaleModelInput(float[], float)} on a float32 tensor, on its device (the identity returns {@code sample}
   * itself).
   */
  default Tensor scaleModelInput(Tensor sample, float timestep) {
    return sample;
  }

  /**
   * {@link #step(float[], float, float[], float[])} on float32 tensors of one shape, on their device: the previous
   * sample, a new tensor (owned by the open scope, else the caller). {@code noise} is needed only where
   * {@link #needsNoise} says so, and may be {@code null} elsewhere.
   */
  Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise);

  /** Whether {@code step} at {@code timestep} uses noise (DDPM for t &gt; 0): draw it only then. */
  default boolean needsNoise(float timestep) {
    return false;
  }

  /** Frees the tensors the tensor form keeps between steps (PNDM's history); the arrays form keeps none. */
  @Override
  default void close() {}

  /** Builds the scheduler a config's {@code _class_name} names. */
  static Scheduler create(SchedulerConfig config) {
    return switch (config.className()) {
      case "DDPMScheduler" -> new DdpmScheduler(config);
      case "DDIMScheduler" -> new DdimScheduler(config);
      case "PNDMScheduler" -> new PndmScheduler(config);
      case "EulerDiscreteScheduler" -> new EulerDiscreteScheduler(config);
      default -> throw new org.sr4g.UserInputException(config.source() + ": unsupported scheduler _class_name '"
          + config.className() + "' (supported: DDPMScheduler, DDIMScheduler, PNDMScheduler, EulerDiscreteScheduler)");
    };
  }
}
