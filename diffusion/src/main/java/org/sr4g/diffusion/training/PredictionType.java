package org.sr4g.diffusion.training;

import org.sr4g.UserInputException;

/**
 * What the UNet learns to predict (diffusers' scheduler {@code prediction_type}): the noise, or the velocity
 * {@code v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0} (Salimans & Ho 2022). {@code sample} prediction is not supported for training.
 */
public enum PredictionType {
  EPSILON("epsilon"),
  V_PREDICTION("v_prediction");

  private final String configName;

  PredictionType(String configName) {
    this.configName = configName;
  }

  /** The name in a scheduler config and on the command line ({@code epsilon}, {@code v_prediction}). */
  public String configName() {
    return configName;
  }

  @Override
  public String toString() {
    return configName;
  }

  /** {@code epsilon} or {@code v_prediction}; anything else is a user error naming the value. */
  public static PredictionType parse(String name) {
    for (PredictionType p : values()) if (p.configName.equals(name)) return p;
    throw new UserInputException("--prediction-type must be epsilon or v_prediction, got '" + name + "'");
  }
}
