package org.sr4g.diffusion.training;

import java.io.IOException;

/**
 * Work done between optimizer steps, in the order the trainer holds them: the metrics row, the checkpoint cadence,
 * the validation grids, then the caller's {@link TrainingHooks#afterStep}. The step itself knows none of them.
 */
interface StepHook {
  /** After step {@code m.step()} updated the weights. */
  void afterStep(Trainer.StepMetrics m) throws IOException;

  /** After the last step of the call ({@code step}: the run's step count then). */
  default void afterLastStep(long step) throws IOException {}
}
