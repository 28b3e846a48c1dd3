package org.sr4g.cli;

import org.sr4g.diffusion.training.LrSchedule;
import org.sr4g.diffusion.training.PredictionType;
import org.sr4g.diffusion.training.TrainOptions;
import picocli.CommandLine.Option;

/**
 * {@code sr4g train}'s optimisation options (a picocli mixin): batch and steps, AdamW and its learning-rate schedule,
 * the objective (prediction type, Min-SNR-γ, noise offset), the EMA, the text encoder and the seed.
 */
final class TrainOptimizationOptions {
  @Option(names = {"--batch-size", "--train_batch_size"}, defaultValue = "1", paramLabel = "N",
      description = "examples per micro-batch (per process) (default: ${DEFAULT-VALUE})") int batchSize;
  @Option(names = {"--grad-accum", "--gradient_accumulation_steps"}, defaultValue = "1", paramLabel = "N",
      description = "micro-batches per optimizer step (default: ${DEFAULT-VALUE})") int gradAccum;
  @Option(names = {"--max-steps", "--max_train_steps"}, defaultValue = "1000", paramLabel = "N",
      description = "optimizer steps (default: ${DEFAULT-VALUE})") long maxSteps;
  @Option(names = {"--lr", "--learning_rate"}, defaultValue = "1e-5", paramLabel = "LR",
      description = "base learning rate (default: ${DEFAULT-VALUE})") double lr;
  @Option(names = {"--adam-beta1", "--adam_beta1"}, defaultValue = "0.9", paramLabel = "B",
      description = "default: ${DEFAULT-VALUE}") double beta1;
  @Option(names = {"--adam-beta2", "--adam_beta2"}, defaultValue = "0.999", paramLabel = "B",
      description = "default: ${DEFAULT-VALUE}") double beta2;
  @Option(names = {"--weight-decay", "--adam_weight_decay"}, defaultValue = "0.01", paramLabel = "W",
      description = "AdamW's decoupled weight decay (default: ${DEFAULT-VALUE})") double weightDecay;
  @Option(names = {"--adam-eps", "--adam_epsilon"}, defaultValue = "1e-8", paramLabel = "E",
      description = "default: ${DEFAULT-VALUE}") double eps;
  @Option(names = {"--max-grad-norm", "--max_grad_norm"}, defaultValue = "1.0", paramLabel = "N",
      description = "global L2 gradient clipping, 0: none (default: ${DEFAULT-VALUE})") double maxGradNorm;
  @Option(names = {"--lr-scheduler", "--lr_scheduler"}, defaultValue = "constant", paramLabel = "NAME",
      converter = LrSchedulerConverter.class,
      description = "constant, constant_with_warmup or cosine (default: ${DEFAULT-VALUE})") LrSchedule.Kind lrScheduler;
  @Option(names = {"--lr-warmup-steps", "--lr_warmup_steps"}, defaultValue = "0", paramLabel = "N",
      description = "linear warmup; the first update uses factor 0, as diffusers (default: ${DEFAULT-VALUE})") int warmup;
  @Option(names = {"--prediction-type", "--prediction_type"}, paramLabel = "TYPE", converter = PredictionConverter.class,
      description = "epsilon or v_prediction (default: the scheduler config's)") PredictionType predictionType;
  @Option(names = {"--snr-gamma", "--snr_gamma"}, defaultValue = "0", paramLabel = "G",
      description = "Min-SNR-γ loss weighting, 0: off (default: ${DEFAULT-VALUE})") double snrGamma;
  @Option(names = {"--noise-offset", "--noise_offset"}, defaultValue = "0", paramLabel = "X",
      description = "adds X · N(0,1) per (example, channel) to the noise (default: ${DEFAULT-VALUE})") double noiseOffset;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
      description = "the only source of randomness (default: ${DEFAULT-VALUE})") long seed;
  @Option(names = {"--ema", "--use_ema"},
      description = "keep an EMA of the UNet weights; OUT/model gets the EMA weights (default: off)") boolean ema;
  @Option(names = "--ema-decay", defaultValue = "0.9999", paramLabel = "D", description = "default: ${DEFAULT-VALUE}")
  double emaDecay;
  @Option(names = "--train-text-encoder",
      description = "train the CLIP text encoder too (not with --cache); OUT/model gets the trained encoder (default: off)")
  boolean trainTextEncoder;
  @Option(names = "--text-encoder-lr", paramLabel = "LR",
      description = "the text encoder's base learning rate (default: --lr)") Double textEncoderLr;

  void applyTo(TrainOptions o) {
    o.batchSize = batchSize;
    o.gradAccum = gradAccum;
    o.maxSteps = maxSteps;
    o.lr = lr;
    o.adamBeta1 = beta1;
    o.adamBeta2 = beta2;
    o.weightDecay = weightDecay;
    o.adamEps = eps;
    o.maxGradNorm = maxGradNorm;
    o.lrScheduler = lrScheduler;
    o.lrWarmupSteps = warmup;
    o.predictionType = predictionType;
    o.snrGamma = snrGamma;
    o.noiseOffset = noiseOffset;
    o.seed = seed;
    o.ema = ema;
    o.emaDecay = emaDecay;
    o.trainTextEncoder = trainTextEncoder;
    o.textEncoderLr = textEncoderLr;
  }

  /** diffusers' names ({@code constant_with_warmup}), with the trainer's message for anything else. */
  static final class LrSchedulerConverter extends ParsingConverter<LrSchedule.Kind> {
    @Override
    LrSchedule.Kind parse(String s) {
      return LrSchedule.Kind.parse(s);
    }
  }

  /** {@code epsilon} or {@code v_prediction}, as in a scheduler config. */
  static final class PredictionConverter extends ParsingConverter<PredictionType> {
    @Override
    PredictionType parse(String s) {
      return PredictionType.parse(s);
    }
  }
}
