package org.sr4g.diffusion.training;

import java.nio.file.Path;
import org.sr4g.diffusion.training.distributed.DistributedTraining;

/**
 * A checkpoint every {@code --checkpoint-every} steps and after the last step (unless the last step just wrote one;
 * then only the loss chart is redrawn). Each checkpoint gathers every rank's data cursor, is written by rank 0 only
 * (atomically, see {@link Checkpoints}) with the loss chart, and ends with a barrier, so no rank runs ahead of a
 * checkpoint that is not there.
 */
final class CheckpointCadence implements StepHook {
  private final TrainingRun run;
  private final LatentSource source;
  private long lastCheckpoint;

  CheckpointCadence(TrainingRun run, LatentSource source) {
    this.run = run;
    this.source = source;
    this.lastCheckpoint = run.step;
  }

  @Override
  public void afterStep(Trainer.StepMetrics m) {
    int every = run.o.checkpointEvery;
    if (every > 0 && m.step() % every == 0) checkpoint(m.step());
  }

  @Override
  public void afterLastStep(long step) {
    if (lastCheckpoint != step) checkpoint(step);
    else if (run.dist.writes()) LossChart.write(metrics(), run.o.out.resolve("loss.svg"));
  }

  private Path metrics() {
    return run.o.out.resolve("metrics.jsonl");
  }

  private void checkpoint(long step) {
    DistributedTraining dist = run.dist;
    long[] cursors = dist.cursors(source.position());
    if (dist.writes()) {
      Checkpoints.save(run.o.out, step, DistributedTraining.globalCursor(cursors), run.fixed,
          run.model.folder().root().resolve("unet/config.json"), run.trainable.unet(), run.trainable.lora(), run.opt, run.ema, run.teState,
          run.scaler, run.skippedSteps, run.o.checkpointsLimit, Trainer.settings(run.o), cursors);
      LossChart.write(metrics(), run.o.out.resolve("loss.svg"));
    }
    dist.barrier("checkpoint " + step);
    lastCheckpoint = step;
  }
}
