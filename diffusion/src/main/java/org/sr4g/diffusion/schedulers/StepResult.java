package org.sr4g.diffusion.schedulers;

/**
 * What one scheduler step returns.
 *
 * @param prevSample the sample at the previous (less noisy) timestep
 * @param predOriginalSample the model's estimate of the clean sample, or {@code null} where the scheduler has none
 *     (PNDM)
 */
public record StepResult(float[] prevSample, float[] predOriginalSample) {}
