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
    description = "tiny: a 32/64-channel UNet, VAE and 2-layer CLIP text encoder (about 4 MB, under a second); images are"
        + " noise, but sample, train, cache and bench run end to end on a CPU in seconds. sd15-random: Stable Diffusion"
        + " 1.5's exact architecture (1.07 B parameters, stored as float16: 2.1 GB) for trying memory and speed at full"
        + " size. Both use a built-in 514-token byte-level tokenizer (every character one token), so nothing is"
        + " downloaded. Details: docs/diffusion.md.",
    footer = {"", "Example:", "  sr4g init-model --out tiny-model",
        "  sr4g sample --model tiny-model --prompt 'a cat to the left of a dog' \\",
        "      --steps 4 --width 64 --height 64 --out images"})
final class InitModelCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "new model folder (must not exist)") Path out;
  @Option(names = "--shape", defaultValue = "tiny", paramLabel = "tiny|sd15-random", description = "default: ${DEFAULT-VALUE}")
  String shape;
  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "default: ${DEFAULT-VALUE}") long seed;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    RandomModelFolder.Shape s = RandomModelFolder.Shape.parse(shape);
    RandomModelFolder.write(out, s, seed, line -> {
      o.println("wrote " + line);
      o.flush();
    });
    o.println("model: " + out + " (" + s.spelling() + ", random weights, seed " + seed + ")");
    o.flush();
    return 0;
  }
}
