package org.sr4g.cli;

import java.io.PrintWriter;
import java.util.List;
import org.sr4g.diffusion.ModelSource;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where a Stable Diffusion model comes from (a picocli mixin): {@code --model}, {@code --variant} and the single-file
 * options; the commands that apply LoRA files declare {@code --lora} themselves (optional for sample, required for
 * lora merge).
 */
final class ModelOptions {
  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "diffusers folder, Hugging Face id org/name[@rev] (from the local cache, offline) or single-file"
          + " SD 1.x/2.x checkpoint (.safetensors)") String model;
  @Option(names = "--variant", paramLabel = "NAME",
      description = "weights variant of a model folder, e.g. fp16 (widened to float32; default: the plain weights)")
  String variant;
  @Mixin SingleFileOptions singleFile;

  /** The model with every {@code loras} value ({@code FILE[:SCALE]}) applied; notes go to {@code out}. */
  ModelSource open(List<String> loras, PrintWriter out) {
    return ModelArgs.open(model, variant, singleFile, loras, out);
  }

  @Override
  public String toString() {
    return model;
  }
}
