package org.sr4g.detection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.sr4g.UserInputException;
import org.sr4g.detection.image.ImageProcessor;
import org.sr4g.detection.owlvit.OwlVitConfig;
import org.sr4g.detection.owlvit.OwlVitDetector;
import org.sr4g.diffusion.ModelFolder;
import org.sr4g.diffusion.models.ConfigJson;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/**
 * An OWL-ViT folder as the Hugging Face hub ships it ({@code google/owlvit-base-patch32} …): {@code config.json},
 * {@code preprocessor_config.json}, {@code model.safetensors} (else {@code pytorch_model.bin}, read without running
 * anything), and the CLIP tokenizer files {@code vocab.json}, {@code merges.txt} (with {@code tokenizer_config.json}'s
 * {@code model_max_length}, default 16, and {@code special_tokens_map.json}'s pad token, default id 0).
 * {@link #open} locates and parses everything and collects problems; {@link #problems()} adds every weight key
 * problem (headers only), so a broken folder is reported whole before any work.
 */
public final class OwlVitFolder {
  private final Path root;
  private final List<String> problems = new ArrayList<>();
  private OwlVitConfig config;
  private ImageProcessor processor;
  private QueryTokenizer tokenizer;
  private Path weights;

  private OwlVitFolder(Path root) {
    this.root = root;
  }

  public static OwlVitFolder open(Path root) {
    OwlVitFolder f = new OwlVitFolder(root);
    f.locate();
    return f;
  }

  private void locate() {
    if (!Files.isDirectory(root)) {
      problems.add(root + ": not a directory");
      return;
    }
    Path cfg = root.resolve("config.json");
    int padId = 0;
    if (!Files.isRegularFile(cfg)) problems.add(cfg + ": missing (not an OWL-ViT model folder)");
    else {
      try {
        ConfigJson c = ConfigJson.read(cfg);
        config = OwlVitConfig.from(c);
        padId = c.object("text_config").integer("pad_token_id", 0);
      } catch (UserInputException e) {
        problems.add(e.getMessage());
      }
    }
    Path pre = root.resolve("preprocessor_config.json");
    try {
      processor = ImageProcessor.read(pre);
      if (config != null && (processor.width() != config.vision().imageSize() || processor.height() != config.vision().imageSize()))
        problems.add(pre + ": size " + processor.width() + "×" + processor.height() + " differs from the model's image_size "
            + config.vision().imageSize());
    } catch (UserInputException e) {
      problems.add(e.getMessage());
    }
    for (String f : List.of("vocab.json", "merges.txt"))
      if (!Files.isRegularFile(root.resolve(f))) problems.add(root.resolve(f) + ": missing (the CLIP tokenizer's files)");
    if (problems.stream().noneMatch(p -> p.contains("vocab.json") || p.contains("merges.txt"))) {
      try {
        ClipTokenizer t = ClipTokenizer.fromFolder(root);
        if (!Files.isRegularFile(root.resolve("special_tokens_map.json"))) t = t.withPadId(padId);
        int max = 16;
        Path tc = root.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc)) max = ConfigJson.read(tc).integer("model_max_length", 16);
        if (config != null && max > config.text().maxPositions())
          problems.add(tc + ": model_max_length " + max + " exceeds the text tower's " + config.text().maxPositions() + " positions");
        else tokenizer = new QueryTokenizer(t, max);
      } catch (UserInputException | IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    for (String f : List.of("model.safetensors", "pytorch_model.bin")) {
      if (Files.isRegularFile(root.resolve(f))) {
        weights = root.resolve(f);
        break;
      }
    }
    if (weights == null)
      problems.add(root.resolve("model.safetensors") + ": missing (nor pytorch_model.bin)"
          + (Files.isRegularFile(root.resolve("model.safetensors.index.json"))
              || Files.isRegularFile(root.resolve("pytorch_model.bin.index.json")) ? "; sharded checkpoints are not supported" : ""));
  }

  /** Every problem: files, configs, tokenizer, and each missing, unexpected or mis-shaped weight (headers only). */
  public List<String> problems() {
    List<String> all = new ArrayList<>(problems);
    if (config != null && weights != null) {
      try (WeightsFile w = WeightsFile.open(weights)) {
        for (String p : OwlVitDetector.check(config, w)) all.add(weights + ": " + p);
      } catch (UserInputException e) {
        all.add(e.getMessage());
      }
    }
    return Collections.unmodifiableList(all);
  }

  /** Throws one UserInputException listing every problem (at most 30 shown, with the total). */
  public void requireValid() {
    ModelFolder.requireNone(root, "the OWL-ViT folder", problems());
  }

  public Path root() {
    return root;
  }

  public OwlVitConfig config() {
    return config;
  }

  public ImageProcessor processor() {
    return processor;
  }

  public QueryTokenizer tokenizer() {
    return tokenizer;
  }

  public Path weights() {
    return weights;
  }
}
