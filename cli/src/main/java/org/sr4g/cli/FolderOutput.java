package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.ModelWriter;
import picocli.CommandLine.Option;

/** {@code --out DIR --dtype T} of the commands that save a model as a diffusers folder (convert, lora merge). */
final class FolderOutput {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "new diffusers folder (must not exist)") Path out;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|f16|bf16",
      description = "stored weight type (default: ${DEFAULT-VALUE})") String dtype;

  /** Writes {@code s} to {@code --out} in {@code --dtype}, one line per file. */
  void write(ModelSource s, PrintWriter o) {
    ModelWriter.write(s, out, stored(), line -> {
      o.println("wrote " + line);
      o.flush();
    });
    o.println("model: " + out);
    o.flush();
  }

  private String stored() {
    return switch (dtype.toLowerCase(Locale.ROOT)) {
      case "f32", "float32", "fp32" -> "F32";
      case "f16", "float16", "fp16" -> "F16";
      case "bf16", "bfloat16" -> "BF16";
      default -> throw new UserInputException("--dtype must be f32, f16 or bf16, got '" + dtype + "'");
    };
  }
}
