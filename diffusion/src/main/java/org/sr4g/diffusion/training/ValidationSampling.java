package org.sr4g.diffusion.training;

import java.nio.file.Path;
import java.util.Map;
import org.sr4g.torch.Tensor;

/**
 * {@code --validation-prompts}: a grid every {@code --validation-every} steps and after the last step, by rank 0.
 * With {@code --ema} the grid shows the average (what OUT/model gets), as diffusers: the raw weights are stored, the
 * EMA copied in, the grid sampled, the raw weights restored exactly, so training continues on them unchanged.
 */
final class ValidationSampling implements StepHook {
  private final TrainingRun run;
  private final Trainer.Listener listener;

  ValidationSampling(TrainingRun run, Trainer.Listener listener) {
    this.run = run;
    this.listener = listener;
  }

  @Override
  public void afterStep(Trainer.StepMetrics m) {
    TrainOptions o = run.o;
    long step = m.step();
    if (!run.dist.writes() || run.validationPrompts.isEmpty()) return;
    if (step != o.maxSteps && !(o.validationEvery > 0 && step % o.validationEvery == 0)) return;
    Ema ema = run.ema;
    Map<String, Tensor> raw = ema != null ? ema.swapIn(run.trainable.unet().named()) : null;
    Path grid;
    try {
      grid = Validation.writeGrid(run.pipe, run.validationPrompts, run.res, o.validationSteps, o.seed,
          o.validationClipSkip, o.out, step);
    } finally {
      if (raw != null) Ema.restore(run.trainable.unet().named(), raw);
    }
    listener.message("validation" + (ema != null ? " (EMA weights): " : ": ") + grid);
  }
}
