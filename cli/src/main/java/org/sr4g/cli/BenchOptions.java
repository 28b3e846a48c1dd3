package org.sr4g.cli;

import java.util.Locale;
import org.sr4g.UserInputException;
import org.sr4g.torch.Allocator;
import org.sr4g.torch.AttentionSlicing;
import org.sr4g.torch.Torch;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every {@code sr4g bench} subcommand shares, with one set of defaults: the built-in tiny model, batch 1,
 * the model's own resolution ({@code sample_size} × VAE factor, as diffusers' pipelines), 10 timed steps after 1
 * warm-up, CPU, seed 0, attention slicing auto. {@link #describe} prints the values a run used.
 */
final class BenchOptions {
  @Option(names = "--shape", defaultValue = "tiny", paramLabel = "tiny|sd15|sd21",
      description = "built-in UNet with random weights (default: ${DEFAULT-VALUE})") String shape;
  @Option(names = "--batch", defaultValue = "1", paramLabel = "B", description = "images per step (default: ${DEFAULT-VALUE})")
  int batch;
  @Option(names = "--res", paramLabel = "PX",
      description = "image size (default: the model's sample_size x VAE factor: tiny 16, sd15 512, sd21 768)") Integer res;
  @Option(names = "--steps", defaultValue = "10", paramLabel = "N", description = "timed steps (default: ${DEFAULT-VALUE})")
  int steps;
  @Option(names = "--warmup", defaultValue = "1", paramLabel = "N", description = "untimed steps first (default: ${DEFAULT-VALUE})")
  int warmup;
  @Mixin DeviceOption device;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;
  @Mixin AttentionOption attention;

  /** Checks the counts, applies the attention setting and returns the resolution ({@code modelDefault} unless given). */
  int resolve(int modelDefault) {
    if (batch < 1) throw new UserInputException("--batch must be at least 1");
    if (steps < 1) throw new UserInputException("--steps must be at least 1");
    if (warmup < 0) throw new UserInputException("--warmup must be at least 0");
    attention.apply();
    return res != null ? res : modelDefault;
  }

  /** The settings a run used, one line, for the record. */
  String describe(String what, int resolution) {
    return describe(what, resolution, String.format(Locale.ROOT, "%d timed steps + %d warm-up", steps, warmup));
  }

  /** As {@link #describe(String, int)}, with the meaning of {@code --steps}/{@code --warmup} spelled by the caller. */
  String describe(String what, int resolution, String stepsText) {
    return String.format(Locale.ROOT, "settings: %s, batch %d, res %d%s, %s, device %s, seed %d, attention slice %s,"
        + " malloc %s, %d libtorch thread(s), blas %s", what, batch, resolution,
        res == null ? " (the model's default)" : "", stepsText, device, seed, AttentionSlicing.current(),
        Allocator.active().name(), Torch.threads()[0], Torch.blas().label());
  }

  /** {@code first/median}: how far the first timed step is from the steady ones (1.0 = steady from the start). */
  static String firstOverMedian(double[] ms, double median) {
    return String.format(Locale.ROOT, "%.2f", ms[0] / median);
  }
}
