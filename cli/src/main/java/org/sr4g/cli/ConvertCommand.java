package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.ModelWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sr4g convert}: any model source (a single-file checkpoint above all) saved as a diffusers folder. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Save a model (e.g. a single-file SD 1.x/2.x checkpoint) as a diffusers folder.",
    description = "Reads --model as every command does (diffusers folder, Hugging Face id from the local cache, or a"
        + " single-file .safetensors checkpoint in the original LDM layout, converted as diffusers' from_single_file"
        + " does) and writes model_index.json, unet/, vae/, text_encoder/, tokenizer/ and scheduler/ into --out, which"
        + " diffusers' from_pretrained and every sr4g command read. Written to a temporary folder and renamed: a complete"
        + " folder or none. Details: docs/diffusion.md.",
    footer = {"", "Example:", "  sr4g convert --model v1-5-pruned-emaonly.safetensors --out sd-v1-5",
        "  sr4g convert --model v2-1_768-ema-pruned.safetensors --tokenizer clip-tokenizer/ --out sd-v2-1"})
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "MODEL",
      description = "single-file checkpoint, diffusers folder or Hugging Face id") String model;
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "new diffusers folder (must not exist)") Path out;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
      description = "stored weight type (default: ${DEFAULT-VALUE})") String dtype;
  @Option(names = "--variant", paramLabel = "NAME", description = "weights variant of a model folder, e.g. fp16") String variant;
  @Mixin SingleFileOptions singleFile;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    String stored = storedDtype(dtype);
    try (ModelSource s = ModelArgs.open(model, variant, singleFile, List.of(), o)) {
      ModelWriter.write(s, out, stored, line -> {
        o.println("wrote " + line);
        o.flush();
      });
    }
    o.println("model: " + out);
    o.flush();
    return 0;
  }

  /** f32/f16/bf16 → the safetensors dtype name. */
  static String storedDtype(String dtype) {
    return switch (dtype.toLowerCase(Locale.ROOT)) {
      case "f32", "float32", "fp32" -> "F32";
      case "f16", "float16", "fp16" -> "F16";
      case "bf16", "bfloat16" -> "BF16";
      default -> throw new UserInputException("--dtype must be f32, f16 or bf16, got '" + dtype + "'");
    };
  }
}
