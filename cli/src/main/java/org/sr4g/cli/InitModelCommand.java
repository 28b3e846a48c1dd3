package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.RandomModelFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g init-model}: a complete diffusers folder with random weights, to try every command offline. */
@Command(
    name = "init-model",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Write a complete diffusers model folder with random weights (no download), to try every command.",
    description = "tiny: a 32/64-channel UNet, VAE and 2-layer CLIP text encoder (about 4 MB, under a second) on"
        + " which sample, train, cache and bench run end to end on a CPU in seconds (the images are noise)."
        + " sd15-random: Stable Diffusion 1.5's exact architecture (1.07 B parameters as float16: 2.1 GB) to try memory"
        + " and speed at full size. Both use a built-in byte-level tokenizer: no download (docs/diffusion.md).",
    footer = {"", "Example:", "  sr4g init-model --out tiny-model",
        "  sr4g sample --model tiny-model --prompt 'a cat to the left of a dog' \\",
        "      --steps 4 --width 64 --height 64 --out images"})
final class InitModelCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "new model folder (must not exist)")
  Path out;
  @Option(names = "--shape", defaultValue = "tiny", paramLabel = "tiny|sd15-random", converter = ShapeConverter.class,
      description = "default: ${DEFAULT-VALUE}")
  RandomModelFolder.Shape shape;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    RandomModelFolder.write(out, shape, seed, line -> {
      o.println("wrote " + line);
      o.flush();
    });
    o.println("model: " + out + " (" + shape.spelling() + ", random weights, seed " + seed + ")");
    o.flush();
    return 0;
  }

  static final class ShapeConverter extends ParsingConverter<RandomModelFolder.Shape> {
    @Override
    RandomModelFolder.Shape parse(String s) {
      return RandomModelFolder.Shape.parse(s);
    }
  }
}
