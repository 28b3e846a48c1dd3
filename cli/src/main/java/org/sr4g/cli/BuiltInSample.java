package org.sr4g.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sr4g.coco.CocoSource;
import org.sr4g.synth.CocoSynth;

/**
 * The data {@code sr4g generate} runs on when given no input: a synthetic COCO-format train set and a smaller eval
 * set, generated in memory by {@link CocoSynth} with fixed seeds, so the quick start needs no download.
 */
record BuiltInSample(CocoSource train, CocoSource eval) {
  static final long TRAIN_SEED = 2017;
  static final long EVAL_SEED = 2018;

  static BuiltInSample create(int trainImages) {
    return new BuiltInSample(
        CocoSource.ofBytes("built-in sample train (synth " + trainImages + " images, seed " + TRAIN_SEED + ")", synth(trainImages, TRAIN_SEED)),
        CocoSource.ofBytes(
            "built-in sample eval (synth " + Math.max(1, trainImages / 4) + " images, seed " + EVAL_SEED + ")",
            synth(Math.max(1, trainImages / 4), EVAL_SEED)));
  }

  private static byte[] synth(int images, long seed) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(images * 4096);
    try {
      CocoSynth.builder().images(images).seed(seed).build().write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** True when {@code dir} holds a previous run's output (its manifest names sr4g), which may be replaced. */
  static boolean isPreviousSampleOutput(Path dir) {
    Path manifest = dir.resolve("manifest.json");
    try {
      return Files.isRegularFile(manifest) && Files.readString(manifest).contains("\"built-in sample train");
    } catch (IOException e) {
      return false;
    }
  }
}
