package org.sr4g.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.synth.CocoSynth;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sr4g synth}: writes a synthetic COCO instance-annotation file with train2017-like statistics. */
@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Writes a synthetic COCO instances JSON file (same layout as instances_train2017.json) whose statistics mimic"
          + " COCO train2017: ~7.3 objects per image, person-heavy category frequencies, COCO image sizes, many"
          + " small objects, ~1%% iscrowd RLE masks, polygon segmentations.",
      "The output depends only on --images and --seed (byte-identical on every run and JDK); it is written to a"
          + " temporary file beside --out and renamed atomically."
    },
    footer = {
      "",
      "Examples:",
      "  # train2017-sized: ~445 MB, ~860K boxes, a few seconds",
      "  sr4g synth --images 118287 --seed 0 --out /tmp/synth118k.json",
      "  # a small sample, seed 0",
      "  sr4g synth --images 2000 --out sample.json",
      "",
      "See docs/synth.md for the statistics and where the numbers come from."
    })
public final class SynthCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--images",
      paramLabel = "N",
      description = "Number of images (default: ${DEFAULT-VALUE}, the size of train2017).",
      defaultValue = "118287")
  int images;

  @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  long seed;

  @Option(names = "--out", paramLabel = "FILE", required = true, description = "Output JSON file (its directory must exist).")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (images < 1 || images > CocoSynth.MAX_IMAGES) {
      throw new UserInputException("--images must be between 1 and " + CocoSynth.MAX_IMAGES + ", got " + images);
    }
    Path dir = out.toAbsolutePath().normalize().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new UserInputException("--out " + out + ": directory " + dir + " does not exist");
    }
    if (Files.isDirectory(out)) {
      throw new UserInputException("--out " + out + " is a directory, expected a file name");
    }
    long t0 = System.nanoTime();
    CocoSynth.Stats s = CocoSynth.builder().images(images).seed(seed).build().writeTo(out);
    double seconds = (System.nanoTime() - t0) / 1e9;
    spec.commandLine()
        .getOut()
        .println(
            String.format(
                Locale.ROOT,
                "synth: %s: %d images (%d without annotations), %d annotations (%d crowd), %d bytes, %.2f s",
                out,
                s.images(),
                s.emptyImages(),
                s.annotations(),
                s.crowdAnnotations(),
                s.bytes(),
                seconds));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
