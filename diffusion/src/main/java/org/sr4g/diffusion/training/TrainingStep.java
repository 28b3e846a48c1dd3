package org.sr4g.diffusion.training;

import java.util.List;
import java.util.SplittableRandom;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.training.distributed.DistributedTraining;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.DType;
import org.sr4g.torch.Device;
import org.sr4g.torch.Generator;
import org.sr4g.torch.GradScaler;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * One optimizer step of a {@link TrainingRun}: {@code --grad-accum} micro-batches (latents from the
 * {@link LatentSource}, the {@link DiffusionLoss} on the UNet's prediction, the backward), then the fp16 unscale,
 * clipping, the scheduled learning rate, AdamW and the EMA. Every random number of step {@code s}, micro-batch
 * {@code m} comes from generators seeded with {@code mix(seed, s, m)}: a libtorch CPU {@link Generator} for the noise
 * (posterior noise first, then the diffusion noise and its offset), a {@link SplittableRandom} for the timesteps.
 */
final class TrainingStep {
  private TrainingStep() {}

  /** Runs step {@code run.step + 1} and returns its metrics (the run's counters advanced). */
  static Trainer.StepMetrics run(TrainingRun run, LatentSource source, TrainingHooks hooks) {
    TrainOptions o = run.o;
    long step = ++run.step;
    run.dist.beginStep(step);
    long t0 = System.nanoTime(), wait0 = source.waitNanos();
    List<Tensor> trainable = run.trainable.all();
    Autograd.zeroGrad(trainable);
    double lossSum = 0;
    for (int micro = 0; micro < o.gradAccum; micro++) lossSum += microBatch(run, source, step, micro);
    // A NaN/inf loss (a NaN cache, a diverged run) stops here, before this step updates, checkpoints or publishes
    // anything (fp16 leaves it to the loss scaler, which skips the step and stops at scale 0).
    if (run.scaler == null && !Double.isFinite(lossSum))
      throw new UserInputException("step " + step + ": the loss is " + lossSum + "; stopped before updating,"
          + " checkpointing or publishing (non-finite input latents or pixels, or a diverged run: check the data"
          + " and --lr)");
    hooks.afterBackward(step, run.trainable);
    // fp16: unscale before clipping (the norm is the true one); an inf/NaN gradient skips the update.
    GradScaler scaler = run.scaler;
    double lossScale = scaler != null ? scaler.scale() : 0;
    boolean skipped = scaler != null && scaler.unscale(trainable);
    double gradNorm = skipped ? Double.NaN : Autograd.clipGradNorm(trainable,
        o.maxGradNorm > 0 ? o.maxGradNorm : Double.POSITIVE_INFINITY);
    double lr = update(run, skipped);
    if (run.ema != null) run.ema.update(run.trainable.unet().named(), step);
    return new Trainer.StepMetrics(step, run.dist.mean(lossSum) / o.gradAccum, lr, gradNorm,
        (System.nanoTime() - t0) / 1e6, (source.waitNanos() - wait0) / 1e6, lossScale, skipped, run.skippedSteps);
  }

  /** One micro-batch's forward, loss and backward (gradients add up); returns its loss. */
  @SuppressWarnings("try")
  private static double microBatch(TrainingRun run, LatentSource source, long step, int micro) {
    TrainOptions o = run.o;
    DistributedTraining dist = run.dist;
    Device dev = run.dev;
    DiffusionLoss objective = run.loss;
    int b = o.batchSize;
    source.take(b);
    try (TensorScope scope = TensorScope.open();
        Generator gen = new Generator(Device.CPU, DataLoader.mix(o.seed, step, micro))) {
      SplittableRandom r = new SplittableRandom(DataLoader.mix(o.seed, step, 1_000_003L + micro));
      boolean[] drop = dist.mine(Trainer.dropped(o.seed, step, micro, dist.globalBatch(b), o.captionDropout));
      LatentSource.Encoded in = source.encode(gen, drop);
      Tensor latents = in.latents();
      long[] shape = latents.shape();
      // Drawn for the global batch, this rank's rows taken (dist.randn, dist.timesteps).
      Tensor noise = dist.randn(gen, shape);
      noise = objective.noise(noise, objective.usesNoiseOffset() ? dist.randn(gen, shape[0], shape[1], 1, 1) : null);
      long[] ts = dist.timesteps(r, objective.numTimesteps(), b);
      // On the latents' device: no device-to-host copy of the latents per micro-batch (the noise comes from the CPU
      // generator, so it is the same on every device, and is copied over once).
      Tensor eps = noise.to(dev);
      Tensor noisy = objective.noisyLatents(latents, eps, ts);
      Tensor target = objective.target(latents, eps, ts);
      Tensor loss;
      // Mixed precision: forward and loss under autocast (weights stay float32); the loss on a float32 prediction,
      // as diffusers' F.mse_loss(model_pred.float(), target.float()).
      try (ModeGuard ac = run.mp.autocast(dev)) {
        Tensor pred = run.unet.forward(noisy, Tensor.of(ts, b).to(dev), in.context());
        if (run.mp != MixedPrecision.NO) pred = pred.to(DType.F32);
        loss = objective.loss(pred, target, ts);
      }
      backward(run, loss.div(o.gradAccum), micro == o.gradAccum - 1);
      return loss.item();
    }
  }

  /**
   * With gradient checkpointing this also recomputes the UNet's blocks (UNet2DConditionModel.backward, under the
   * forward's autocast); gradients still add up over the micro-batches, and clipping sees the sum. A trained text
   * encoder gets its gradient through the context either way. {@code sync}: the last micro-batch, whose backward
   * all-reduces (the earlier ones accumulate locally, DDP's no_sync).
   */
  private static void backward(TrainingRun run, Tensor part, boolean sync) {
    run.dist.beforeBackward(sync);
    run.unet.backward(run.scaler != null ? run.scaler.scale(part) : part);
    run.dist.afterBackward(sync);
  }

  /**
   * The scheduled learning rate, AdamW (unless fp16 skipped the step) and the loss scaler's update; returns the
   * learning rate. The schedule advances with the updates made (AdamW's count, = step − 1 unless fp16 skipped some),
   * as accelerate's scheduler does not step after a skipped optimizer step.
   */
  private static double update(TrainingRun run, boolean skipped) {
    double factor = run.lrs.factor(run.opt.stepCount());
    double lr = run.o.lr * factor;
    run.opt.setLearningRate(lr);
    if (run.teOpt != null) run.teOpt.setLearningRate(run.textEncoderLr * factor);
    if (skipped) {
      run.skippedSteps++;
    } else {
      run.opt.step();
      if (run.teOpt != null) run.teOpt.step();
    }
    GradScaler scaler = run.scaler;
    if (scaler != null) {
      scaler.update();
      // Every step since the scale was last finite overflowed (2^16 halved ~166 times): torch would go on skipping
      // forever; stop before a checkpoint records a scale of 0 that no resume can use.
      if (!(scaler.scale() > 0))
        throw new UserInputException("--mixed-precision fp16: the loss scale fell to 0 after " + run.skippedSteps
            + " skipped steps (every gradient inf or NaN at step " + run.step + "): the run diverged; resume from"
            + " an earlier checkpoint with a lower --lr, or use --mixed-precision bf16");
    }
    return lr;
  }
}
