package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.training.LatentCache;
import org.sr4g.io.Escape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g cache}: VAE latents and caption embeddings of a train.jsonl, computed once (docs/training.md). */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Encode a train.jsonl's images (VAE mean and std) and unique captions (CLIP) once, for sr4g train --cache.",
    description = "Centre crops at --resolution, no flips; sharded safetensors plus index.json, written to a temporary"
        + " folder and renamed. Unreadable images are skipped and counted. Details: docs/training.md.")
final class CacheCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "diffusers folder or Hugging Face id org/name[@rev] (local cache)") String model;
  @Option(names = "--data", required = true, paramLabel = "FILE", description = "train.jsonl of sr4g generate") Path data;
  @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder of the rows' file_name images")
  Path images;
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "cache folder (must not exist)") Path out;
  @Option(names = "--resolution", paramLabel = "PX",
      description = "default: the model's sample_size x VAE factor (512 for SD 1.5)") Integer resolution;
  @Mixin DeviceOption device;
  @Option(names = "--shard-size", defaultValue = "1000", paramLabel = "N",
      description = "images (captions) per shard (default: ${DEFAULT-VALUE})") int shardSize;
  @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "encoder batch (default: ${DEFAULT-VALUE})")
  int batch;
  @Option(names = "--max-image-pixels", defaultValue = "89478485", paramLabel = "N",
      description = "refuse images of more pixels, read from their header before decoding (decompression bombs;"
          + " Pillow's limit; default: ${DEFAULT-VALUE})") long maxImagePixels;
  @Option(names = "--quiet", description = "no progress lines") boolean quiet;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    if (maxImagePixels < 1) throw new UserInputException("--max-image-pixels must be at least 1");
    Path folder = ModelSources.folder(model, "--model");
    int res = resolution != null ? resolution : ModelFolder.open(folder, null).defaultResolution();
    LatentCache.BuildResult r = LatentCache.build(folder, data, images, out, res, device.text, shardSize, batch,
        maxImagePixels, line -> {
      if (quiet) return;
      w.println(line);
      w.flush();
    });
    w.println("cached " + r.samples() + " sample(s): " + r.images() + " image(s), " + r.captions() + " caption(s); skipped "
        + r.skippedFiles().size() + " unreadable or missing image(s) (" + r.skippedRows() + " row(s))"
        + (r.skippedFiles().isEmpty() ? "" : ": " + String.join(", ", r.skippedFiles().subList(0,
            Math.min(5, r.skippedFiles().size())).stream().map(Escape::text).toList())));
    w.println("cache: " + r.dir());
    w.flush();
    return 0;
  }
}
