package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.Tensor;

/**
 * A diffusion sampler in diffusers' calling convention: {@link #setTimesteps}, then for each timestep
 * {@code t} of {@link #timesteps()}: {@code x = scaleModelInput(sample, t)}, {@code eps = unet(x, t)},
 * {@code sample = step(eps, t, sample, noise).prevSample()}. Start from unit Gaussian noise times
 * {@link #initNoiseSigma()}.
 *
 * <p>Tensors are flat float32 arrays (the maths is elementwise; shapes do not matter); the {@link Tensor} overloads
 * copy through the CPU, which costs nothing next to a UNet evaluation. Instances keep state (step
 * index, multistep history): one instance per sampling run, not thread-safe.
 */
public interface Scheduler {
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
   * {@link #scaleModelInput(float[], float)} on a tensor (any dtype/device): computed on the CPU in float32, returned as
   * a float32 tensor on the sample's device, owned like any new tensor (the open scope, else the caller).
   */
  default Tensor scaleModelInput(Tensor sample, float timestep) {
    return TensorBridge.like(scaleModelInput(sample.toFloatArray(), timestep), sample);
  }

  /**
   * {@link #step(float[], float, float[], float[])} on tensors; returns the previous sample as a float32 tensor on the
   * sample's device. {@code noise} may be {@code null} for deterministic schedulers.
   */
  default Tensor step(Tensor modelOutput, float timestep, Tensor sample, Tensor noise) {
    StepResult r = step(modelOutput.toFloatArray(), timestep, sample.toFloatArray(), noise == null ? null : noise.toFloatArray());
    return TensorBridge.like(r.prevSample(), sample);
  }

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
