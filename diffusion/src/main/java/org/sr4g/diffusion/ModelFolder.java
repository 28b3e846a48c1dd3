package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.WeightsFile;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.schedulers.Scheduler;
import org.sr4g.diffusion.schedulers.SchedulerConfig;

/**
 * A diffusers Stable Diffusion folder ({@code model_index.json}, {@code unet/}, {@code vae/}, {@code text_encoder/},
 * {@code tokenizer/}, {@code scheduler/}) located and checked without loading any weights: {@link #open} finds every
 * file and parses every config, {@link #problems()} also compares every checkpoint key and shape (safetensors headers
 * only) with what the models need. {@link DiffusersModel#load} refuses a folder with any problem, naming them all.
 */
public final class ModelFolder {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final Path root;
  private final String variant;
  private final List<String> problems = new ArrayList<>();
  private JsonNode modelIndex;
  private UNetConfig unetConfig;
  private AutoencoderKlConfig vaeConfig;
  private ClipTextConfig textConfig;
  private SchedulerConfig schedulerConfig;
  private Path unetWeights, vaeWeights, textWeights, tokenizerDir;

  private ModelFolder(Path root, String variant) {
    this.root = root;
    this.variant = variant;
  }

  /**
   * Locates the components of {@code root}. {@code variant} null reads {@code diffusion_pytorch_model.safetensors} /
   * {@code model.safetensors} (falling back to the {@code .fp16} files when only those exist); "fp16" prefers
   * {@code *.fp16.safetensors} and falls back to the plain file per component; a component with no safetensors file
   * is read from PyTorch's {@code diffusion_pytorch_model.bin} / {@code pytorch_model.bin} the same way. Half-precision weights are widened to float32 on load. Problems are collected, not
   * thrown: see {@link #problems()}.
   */
  public static ModelFolder open(Path root, String variant) {
    ModelFolder f = new ModelFolder(root, variant);
    f.locate();
    return f;
  }

  public Path root() {
    return root;
  }

  private void locate() {
    if (!Files.isDirectory(root)) {
      problems.add(root + ": not a directory");
      return;
    }
    Path index = root.resolve("model_index.json");
    if (!Files.isRegularFile(index)) {
      problems.add(index + ": missing (not a diffusers model folder)");
    } else {
      try {
        modelIndex = MAPPER.readTree(index.toFile());
        if (modelIndex == null || !modelIndex.isObject()) problems.add(index + ": not a JSON object");
        else
          for (String c : List.of("unet", "vae", "text_encoder", "tokenizer", "scheduler"))
            if (!modelIndex.has(c)) problems.add(index + ": no \"" + c + "\" component");
            else componentClass(index, c);
      } catch (IOException e) {
        problems.add(index + ": " + e.getMessage());
      }
    }
    unetConfig = config("unet/config.json", UNetConfig::read);
    vaeConfig = config("vae/config.json", AutoencoderKlConfig::read);
    textConfig = config("text_encoder/config.json", ClipTextConfig::read);
    unetWeights = weights("unet", "diffusion_pytorch_model", "diffusion_pytorch_model");
    vaeWeights = weights("vae", "diffusion_pytorch_model", "diffusion_pytorch_model");
    textWeights = weights("text_encoder", "model", "pytorch_model");
    tokenizerDir = root.resolve("tokenizer");
    for (String f : List.of("vocab.json", "merges.txt"))
      if (!Files.isRegularFile(tokenizerDir.resolve(f))) problems.add(tokenizerDir.resolve(f) + ": missing");
    schedulerConfig = config("scheduler/scheduler_config.json", SchedulerConfig::read);
    if (schedulerConfig != null) {
      try {
        Scheduler.create(schedulerConfig); // refuses a scheduler class with no implementation here, by name
      } catch (UserInputException e) {
        problems.add(e.getMessage());
        schedulerConfig = null;
      }
    }
  }

  /** The classes the models here implement; e.g. SDXL's CLIPTextModelWithProjection or a Flax UNet are refused. */
  private static final java.util.Map<String, String> CLASSES = java.util.Map.of("unet", "UNet2DConditionModel",
      "vae", "AutoencoderKL", "text_encoder", "CLIPTextModel", "tokenizer", "CLIPTokenizer");

  private void componentClass(Path index, String component) {
    String want = CLASSES.get(component);
    JsonNode entry = modelIndex.get(component);
    if (want == null || entry.isNull()) return;
    String cls = entry.isArray() && entry.size() == 2 ? entry.get(1).asText() : entry.toString();
    // CLIPTokenizerFast reads the same vocab.json/merges.txt.
    if (!cls.equals(want) && !(component.equals("tokenizer") && cls.equals("CLIPTokenizerFast")))
      problems.add(index + ": " + component + " is " + cls + ", only " + want + " is supported");
  }

  private <T> T config(String relative, Function<Path, T> reader) {
    Path p = root.resolve(relative);
    if (!Files.isRegularFile(p)) {
      problems.add(p + ": missing");
      return null;
    }
    try {
      return reader.apply(p);
    } catch (UserInputException e) {
      problems.add(e.getMessage());
      return null;
    }
  }

  /**
   * The requested variant's file, else the plain one (diffusers, too, falls back per component when a variant file is
   * absent), else with no variant requested the {@code .fp16} file; safetensors first, then PyTorch's {@code .bin}
   * ({@code binStem}: {@code pytorch_model} for transformers components), read by the weights-only reader.
   */
  private Path weights(String dir, String stem, String binStem) {
    Path d = root.resolve(dir);
    for (String file : List.of(stem + ".safetensors", binStem + ".bin")) {
      int dot = file.lastIndexOf('.');
      Path plain = d.resolve(file);
      Path alt = d.resolve(file.substring(0, dot) + "." + (variant == null ? "fp16" : variant) + file.substring(dot));
      for (Path p : variant == null ? List.of(plain, alt) : List.of(alt, plain)) if (Files.isRegularFile(p)) return p;
    }
    String why = Files.isRegularFile(d.resolve(stem + ".safetensors.index.json"))
        || Files.isRegularFile(d.resolve(binStem + ".bin.index.json")) ? " (sharded checkpoints are not supported)" : "";
    problems.add(d.resolve(stem + (variant == null ? "" : "." + variant) + ".safetensors") + ": missing" + why);
    return null;
  }

  /**
   * Every problem of the folder: missing files, bad configs, and per component the missing, unexpected and mis-shaped
   * weights by key. Reads the safetensors headers, not the data. Empty when {@link DiffusersModel#load} will succeed.
   */
  public List<String> problems() {
    List<String> all = new ArrayList<>(problems);
    // Components that load one by one but cannot work together (e.g. an SD 2.x text encoder beside an SD 1.x UNet).
    ModelChecks.configs(all, textConfig, root.resolve("text_encoder/config.json").toString(), unetConfig,
        root.resolve("unet/config.json").toString(), vaeConfig, root.resolve("vae/config.json").toString());
    if (unetConfig != null && unetWeights != null)
      checkWeights(all, unetWeights, w -> UNet2DConditionModel.LOADER.check(unetConfig, w));
    if (vaeConfig != null && vaeWeights != null) checkWeights(all, vaeWeights, w -> AutoencoderKl.LOADER.check(vaeConfig, w));
    if (textConfig != null && textWeights != null)
      checkWeights(all, textWeights, w -> ClipTextModel.LOADER.check(textConfig, w));
    return Collections.unmodifiableList(all);
  }

  private static void checkWeights(List<String> all, Path file, Function<WeightsFile, List<String>> check) {
    try (WeightsFile w = WeightsFile.open(file)) {
      for (String p : check.apply(w)) all.add(file + ": " + p);
    } catch (UserInputException e) {
      all.add(e.getMessage());
    }
  }

  /** Throws one UserInputException listing every problem (at most 30 shown, with the total). */
  public void requireValid() {
    requireNone(root, "the model folder", problems());
  }

  /** Throws one UserInputException listing {@code problems} of {@code what} (at most 30 shown, with the total), if any. */
  public static void requireNone(Path root, String what, List<String> problems) {
    if (problems.isEmpty()) return;
    int shown = Math.min(problems.size(), 30);
    throw new UserInputException(root + ": " + problems.size() + " problem(s) in " + what + ":\n  "
        + String.join("\n  ", problems.subList(0, shown))
        + (problems.size() > shown ? "\n  … and " + (problems.size() - shown) + " more" : ""));
  }

  public UNetConfig unetConfig() {
    return unetConfig;
  }

  /**
   * The image size the model was trained at, the default of sampling and training as in diffusers' pipelines: the
   * UNet's {@code sample_size} × the VAE factor 2^(VAE blocks − 1) (512 for SD 1.5, 768 for SD 2.1-v).
   */
  public int defaultResolution() {
    return defaultResolution(unetConfig(), vaeConfig());
  }

  /** {@code sample_size} × the VAE's downsampling factor (2^(blocks-1)): the image size a model was trained at. */
  static int defaultResolution(UNetConfig unet, AutoencoderKlConfig vae) {
    return unet.sampleSize() << (vae.blockOutChannels().size() - 1);
  }

  public AutoencoderKlConfig vaeConfig() {
    return vaeConfig;
  }

  public ClipTextConfig textEncoderConfig() {
    return textConfig;
  }

  public Path unetWeights() {
    return unetWeights;
  }

  public Path vaeWeights() {
    return vaeWeights;
  }

  public Path textEncoderWeights() {
    return textWeights;
  }

  public Path tokenizerDir() {
    return tokenizerDir;
  }

  public SchedulerConfig schedulerConfig() {
    return schedulerConfig;
  }
}
