package org.sr4g.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.sr4g.diffusion.ModelSource;
import org.sr4g.diffusion.ModelWriter;
import picocli.CommandLine.Option;

/** {@code --out DIR --dtype T} of the commands that save a model as a diffusers folder (convert, lora merge). */
final class FolderOutput {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "new diffusers folder (must not exist)") Path out;
  @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", converter = WeightType.Converter.class,
      description = "stored weight type: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})") WeightType dtype;

  /** Writes {@code s} to {@code --out} in {@code --dtype}, one line per file. */
  void write(ModelSource s, PrintWriter o) {
    ModelWriter.write(s, out, dtype.stored(), line -> {
      o.println("wrote " + line);
      o.flush();
    });
    o.println("model: " + out);
    o.flush();
  }
}
