package org.sr4g.diffusion.training;

import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.torch.DType;
import org.sr4g.torch.GradScaler;

/**
 * What a caller may change in a run beyond its {@link TrainOptions}: passed to {@link Trainer#train(TrainOptions,
 * Trainer.Listener, TrainingHooks)}, {@link #NONE} by default. Tests use it to look inside a run (the loaded model),
 * to reach code paths the CPU cannot reach otherwise (the fp16 loss scaler, an overflowing gradient) and to compare
 * against an older behaviour; {@code sr4g train --halt-after-step} uses {@link #afterStep} to simulate a crash.
 */
public interface TrainingHooks {
  TrainingHooks NONE = new TrainingHooks() {};

  /** Sees the model right after it is loaded (before anything is frozen or packed). */
  default void loaded(DiffusersModel model) {}

  /** The dtype the frozen VAE and text encoder are loaded in; {@code chosen} is the mixed-precision policy's. */
  default DType frozenDtype(DType chosen) {
    return chosen;
  }

  /** The loss scaler of the run; {@code standard} is the mixed-precision policy's (null without fp16). */
  default GradScaler scaler(MixedPrecision precision, GradScaler standard) {
    return standard;
  }

  /** After the backward passes of {@code step}, before unscaling and clipping (the gradients are complete). */
  default void afterBackward(long step, TrainableParameters trainable) {}

  /** After {@code step} is complete: updated, recorded, checkpointed and validated when due. */
  default void afterStep(long step) {}
}
