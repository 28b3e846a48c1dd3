package org.sr4g.diffusion.schedulers;

import org.sr4g.torch.Tensor;

/**
 * Converts a model output to the predicted clean sample, per {@code prediction_type}, in diffusers' float32 order. The
 * tensor forms run the same float32 operations in the same order on the tensors' device (one elementwise op per
 * operator: bit-identical to the array forms on the CPU).
 */
final class Prediction {
  private Prediction() {}

  static Tensor originalSample(String predictionType, Tensor modelOutput, Tensor sample, float alphaProdT, float betaProdT) {
    float sqrtAlpha = Elementwise.sqrt(alphaProdT);
    float sqrtBeta = Elementwise.sqrt(betaProdT);
    return switch (predictionType) {
      case "epsilon" -> sample.sub(modelOutput.mul(sqrtBeta)).div(sqrtAlpha);
      case "v_prediction" -> sample.mul(sqrtAlpha).sub(modelOutput.mul(sqrtBeta));
      case "sample" -> modelOutput;
      default -> throw new IllegalStateException(predictionType);
    };
  }

  static Tensor epsilon(String predictionType, Tensor modelOutput, Tensor sample, Tensor predOriginal, float alphaProdT,
      float betaProdT) {
    float sqrtAlpha = Elementwise.sqrt(alphaProdT);
    float sqrtBeta = Elementwise.sqrt(betaProdT);
    return switch (predictionType) {
      case "epsilon" -> modelOutput;
      case "v_prediction" -> modelOutput.mul(sqrtAlpha).add(sample.mul(sqrtBeta));
      case "sample" -> sample.sub(predOriginal.mul(sqrtAlpha)).div(sqrtBeta);
      default -> throw new IllegalStateException(predictionType);
    };
  }

  static float[] originalSample(String predictionType, float[] modelOutput, float[] sample, float alphaProdT, float betaProdT) {
    float[] out = new float[sample.length];
    float sqrtAlpha = Elementwise.sqrt(alphaProdT);
    float sqrtBeta = Elementwise.sqrt(betaProdT);
    switch (predictionType) {
      case "epsilon" -> {
        for (int i = 0; i < out.length; i++) out[i] = (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha;
      }
      case "v_prediction" -> {
        for (int i = 0; i < out.length; i++) out[i] = sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
      }
      case "sample" -> System.arraycopy(modelOutput, 0, out, 0, out.length);
      default -> throw new IllegalStateException(predictionType);
    }
    return out;
  }

  /** The noise the output implies (DDIM's {@code pred_epsilon}). */
  static float[] epsilon(String predictionType, float[] modelOutput, float[] sample, float[] predOriginal,
      float alphaProdT, float betaProdT) {
    float[] out = new float[sample.length];
    float sqrtAlpha = Elementwise.sqrt(alphaProdT);
    float sqrtBeta = Elementwise.sqrt(betaProdT);
    switch (predictionType) {
      case "epsilon" -> System.arraycopy(modelOutput, 0, out, 0, out.length);
      case "v_prediction" -> {
        for (int i = 0; i < out.length; i++) out[i] = sqrtAlpha * modelOutput[i] + sqrtBeta * sample[i];
      }
      case "sample" -> {
        for (int i = 0; i < out.length; i++) out[i] = (sample[i] - sqrtAlpha * predOriginal[i]) / sqrtBeta;
      }
      default -> throw new IllegalStateException(predictionType);
    }
    return out;
  }
}
