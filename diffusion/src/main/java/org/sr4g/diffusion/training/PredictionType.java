package org.sr4g.diffusion.training;

import org.sr4g.OptionValue;

/**
 * What the UNet learns to predict (diffusers' scheduler {@code prediction_type}): the noise, or the velocity
 * {@code v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0} (Salimans & Ho 2022). {@code sample} prediction is not supported for training.
 */
public enum PredictionType implements OptionValue {
  EPSILON,
  V_PREDICTION;

  /** The name in a scheduler config and on the command line ({@code epsilon}, {@code v_prediction}). */
  public String configName() {
    return spelling();
  }

  @Override
  public String toString() {
    return spelling();
  }

  /** {@code epsilon} or {@code v_prediction}; anything else is a user error naming the value. */
  public static PredictionType parse(String name) {
    return OptionValue.parse(PredictionType.class, "--prediction-type", name);
  }
}
