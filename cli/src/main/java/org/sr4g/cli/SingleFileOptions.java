package org.sr4g.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.ModelSources;
import org.sr4g.diffusion.PipelineConfigs;
import org.sr4g.diffusion.singlefile.SingleFileSource;
import picocli.CommandLine.Option;

/** Options for a {@code --model} that is a single-file checkpoint (ignored for model folders); docs/diffusion.md. */
final class SingleFileOptions {
  @Option(names = "--prediction-type", paramLabel = "TYPE",
      description = "single-file checkpoints: epsilon or v_prediction (default: SD 1.x epsilon; SD 2.x from the file's"
          + " metadata, else v_prediction as diffusers)") String predictionType;
  @Option(names = "--extract-ema",
      description = "single-file checkpoints holding both: use the EMA weights (model_ema.*) instead of the regular ones")
  boolean extractEma;
  @Option(names = "--tokenizer", paramLabel = "DIR",
      description = "single-file checkpoints: folder with CLIP's vocab.json and merges.txt (default: beside the file,"
          + " else the Hugging Face cache)") Path tokenizer;

  @Option(names = "--config", paramLabel = "MODEL",
      description = "single-file checkpoints: take the component configs (and tokenizer) from this diffusers folder or"
          + " Hugging Face id instead of the built-in SD 1.x/2.x ones, as diffusers' from_single_file(config=...)")
  String config;

  SingleFileSource.Options toOptions() {
    if (predictionType != null && !predictionType.equals("epsilon") && !predictionType.equals("v_prediction"))
      throw new UserInputException("--prediction-type must be epsilon or v_prediction, got '" + predictionType + "'");
    PipelineConfigs configs = null;
    Path tok = tokenizer;
    if (config != null) {
      Path dir = ModelSources.folder(config, "--config");
      configs = PipelineConfigs.fromFolder(dir);
      if (tok == null && Files.isRegularFile(dir.resolve("tokenizer/vocab.json"))) tok = dir.resolve("tokenizer");
    }
    return new SingleFileSource.Options(predictionType, extractEma, tok, configs, null);
  }
}
