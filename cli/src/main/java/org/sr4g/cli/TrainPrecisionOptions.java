package org.sr4g.cli;

import org.sr4g.diffusion.training.MixedPrecision;
import org.sr4g.diffusion.training.TrainOptions;
import picocli.CommandLine.Option;

/** {@code sr4g train}'s precision and memory options (a picocli mixin): mixed precision, gradient checkpointing. */
final class TrainPrecisionOptions {
  @Option(names = {"--mixed-precision", "--mixed_precision"}, defaultValue = "no", paramLabel = "no|bf16|fp16",
      converter = MixedPrecisionConverter.class,
      description = "autocast the UNet forward and loss (float32 weights); bf16: CPU or CUDA; fp16: CUDA, with dynamic"
          + " loss scaling (default: ${DEFAULT-VALUE})") MixedPrecision mixedPrecision;
  @Option(names = {"--gradient-checkpointing", "--gradient_checkpointing"},
      description = "recompute the UNet's blocks in the backward instead of keeping their activations: less memory,"
          + " at most one more forward of the blocks per step (default: off)") boolean gradientCheckpointing;

  void applyTo(TrainOptions o) {
    o.mixedPrecision = mixedPrecision;
    o.gradientCheckpointing = gradientCheckpointing;
  }

  /** {@code no}, {@code bf16}, {@code fp16}, with the trainer's message for anything else. */
  static final class MixedPrecisionConverter extends ParsingConverter<MixedPrecision> {
    @Override
    MixedPrecision parse(String s) {
      return MixedPrecision.parse(s);
    }
  }
}
