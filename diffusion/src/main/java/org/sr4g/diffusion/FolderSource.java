package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/** A diffusers folder as a {@link ModelSource}: checked completely ({@link ModelFolder#requireValid()}) when opened. */
public final class FolderSource implements ModelSource {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ModelFolder folder;
  private final String name;
  private final PipelineSpec spec;
  private final Map<Part, WeightsFile> open = new EnumMap<>(Part.class);

  private FolderSource(ModelFolder folder, String name) {
    this.folder = folder;
    this.name = name;
    this.spec = new PipelineSpec(folder.unetConfig(), folder.vaeConfig(), folder.textEncoderConfig(),
        folder.schedulerConfig(), ClipTokenizer.fromFolder(folder.tokenizerDir()), folder.tokenizerDir());
  }

  /** Opens {@code folder}, refusing it (one exception naming every problem) unless it is complete. */
  public static FolderSource open(ModelFolder folder) {
    return open(folder, folder.root().toString());
  }

  /** As {@link #open(ModelFolder)}, with {@code name} (e.g. the hub id the user typed) in messages. */
  public static FolderSource open(ModelFolder folder, String name) {
    folder.requireValid();
    return new FolderSource(folder, name);
  }

  public ModelFolder folder() {
    return folder;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String origin(Part part) {
    return folder.root().resolve(part.folder).resolve(part.file).toString();
  }

  @Override
  public JsonNode config(Part part) {
    if (part == Part.TOKENIZER) throw new IllegalArgumentException("the tokenizer has no config here");
    Path p = folder.root().resolve(part.folder).resolve(part.file);
    try {
      return JSON.readTree(p.toFile());
    } catch (IOException e) {
      throw new UserInputException(p + ": cannot read: " + e.getMessage(), e);
    }
  }

  @Override
  public PipelineSpec spec() {
    return spec;
  }

  @Override
  public Weights weights(Part part) {
    Path file = switch (part) {
      case UNET -> folder.unetWeights();
      case VAE -> folder.vaeWeights();
      case TEXT_ENCODER -> folder.textEncoderWeights();
      default -> throw new IllegalArgumentException(part + " has no weights");
    };
    return open.computeIfAbsent(part, p -> WeightsFile.open(file));
  }

  @Override
  public void close() {
    open.values().forEach(WeightsFile::close);
    open.clear();
  }
}
