package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.sr4g.UserInputException;
import org.sr4g.io.AtomicFiles;
import org.sr4g.diffusion.ModelSource.Part;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.ParamLoader;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.Weights;
import org.sr4g.diffusion.safetensors.SafetensorsStreamWriter;
import org.sr4g.diffusion.safetensors.TensorInfo;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Writes any {@link ModelSource} as a diffusers folder ({@code model_index.json}, {@code unet/}, {@code vae/},
 * {@code text_encoder/}, {@code tokenizer/}, {@code scheduler/}) that {@link ModelFolder} and diffusers'
 * {@code from_pretrained} read: {@code sr4g convert} (a single-file checkpoint), {@code sr4g lora merge} (a model with
 * LoRA baked in). Each network's parameters are the ones its module tree asks for, checked by key and shape before
 * anything is written, streamed one tensor at a time (an SD UNet never sits in memory whole). Everything is written
 * into a hidden sibling folder and renamed to {@code out} at the end: a complete folder or none.
 */
public final class ModelWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelWriter() {}

  /**
   * Writes {@code source} to {@code out}, which must not exist yet. {@code dtype} is the stored weight type ({@code F32},
   * {@code F16} or {@code BF16}); {@code progress} gets one line per file.
   */
  public static Path write(ModelSource source, Path out, String dtype, Consumer<String> progress) {
    ModelChecks.require(source);
    check(source);
    return staged(out, tmp -> {
      writeJson(tmp.resolve("model_index.json"), modelIndex(source.schedulerConfig().className()));
      component(source, Part.UNET, tmp, UNet2DConditionModel.LOADER.parameterShapes(source.unetConfig()), dtype, progress);
      component(source, Part.VAE, tmp, AutoencoderKl.LOADER.parameterShapes(source.vaeConfig()), dtype, progress);
      component(source, Part.TEXT_ENCODER, tmp, ClipTextModel.LOADER.parameterShapes(source.textEncoderConfig()), dtype,
          progress);
      writeTokenizer(source, tmp.resolve("tokenizer"));
      writeJson(tmp.resolve("scheduler/scheduler_config.json"), source.config(Part.SCHEDULER));
      progress.accept("tokenizer/, scheduler/, model_index.json");
    });
  }

  /** Every network's weights against its module tree (keys and shapes, headers only), all problems in one error. */
  private static void check(ModelSource s) {
    ParamLoader.failOn("UNet weights (" + s.weights(Part.UNET).source() + ")",
        UNet2DConditionModel.LOADER.check(s.unetConfig(), s.weights(Part.UNET)));
    ParamLoader.failOn("VAE weights (" + s.weights(Part.VAE).source() + ")",
        AutoencoderKl.LOADER.check(s.vaeConfig(), s.weights(Part.VAE)));
    ParamLoader.failOn("CLIP text encoder weights (" + s.weights(Part.TEXT_ENCODER).source() + ")",
        ClipTextModel.LOADER.check(s.textEncoderConfig(), s.weights(Part.TEXT_ENCODER)));
  }

  private static void component(ModelSource s, Part part, Path root, Map<String, long[]> shapes, String dtype,
      Consumer<String> progress) {
    Weights w = s.weights(part);
    String file = part == Part.TEXT_ENCODER ? "model.safetensors" : "diffusion_pytorch_model.safetensors";
    writeJson(root.resolve(part.folder).resolve("config.json"), s.config(part));
    writeWeights(root.resolve(part.folder).resolve(file), shapes, dtype, key -> {
      try (TensorScope scope = TensorScope.open()) {
        Tensor t = w.loadF32(key);
        return t.contiguous().toFloatArray();
      }
    });
    progress.accept(part.folder + "/" + file + " (" + shapes.size() + " tensors)");
  }

  /** Streams {@code shapes.size()} tensors into {@code file}, each made by {@code values} when its turn comes. */
  public static void writeWeights(Path file, Map<String, long[]> shapes, String dtype,
      Function<String, float[]> values) {
    Map<String, TensorInfo> layout = new LinkedHashMap<>();
    shapes.forEach((k, s) -> layout.put(k, new TensorInfo(dtype, s)));
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
    }
    // No __metadata__, as Checkpoints.writeParams: the same tensors give the same bytes whichever writer made them.
    try (SafetensorsStreamWriter w = SafetensorsStreamWriter.create(file, layout, Map.of())) {
      for (String key : SafetensorsStreamWriter.order(layout)) w.put(key, values.apply(key));
      w.finish();
    }
  }

  /** The tokenizer's vocabulary and merges as they are, and its special tokens (the pad token is the one in use). */
  private static void writeTokenizer(ModelSource s, Path dir) {
    try {
      Files.createDirectories(dir);
      for (String f : List.of("vocab.json", "merges.txt"))
        Files.copy(s.tokenizerDir().resolve(f), dir.resolve(f));
      ObjectNode special = JSON.createObjectNode().put("bos_token", s.tokenizer().token(s.tokenizer().startId()))
          .put("eos_token", s.tokenizer().token(s.tokenizer().endId()))
          .put("unk_token", s.tokenizer().token(s.tokenizer().endId()))
          .put("pad_token", s.tokenizer().token(s.tokenizer().padId()));
      writeJson(dir.resolve("special_tokens_map.json"), special);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir + ": " + e.getMessage(), e);
    }
  }

  /** diffusers' {@code model_index.json} for the five components sr4g reads. */
  public static JsonNode modelIndex(String schedulerClass) {
    ObjectNode index = JSON.createObjectNode().put("_class_name", "StableDiffusionPipeline");
    index.putArray("unet").add("diffusers").add("UNet2DConditionModel");
    index.putArray("vae").add("diffusers").add("AutoencoderKL");
    index.putArray("text_encoder").add("transformers").add("CLIPTextModel");
    index.putArray("tokenizer").add("transformers").add("CLIPTokenizer");
    index.putArray("scheduler").add("diffusers").add(schedulerClass);
    return index;
  }

  public static void writeJson(Path file, JsonNode node) {
    try {
      Files.createDirectories(file.getParent());
      JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code content} on a hidden staging sibling of {@code out} and renames it to {@code out}
   * ({@link AtomicFiles#writeFolder}); on any failure the sibling is deleted. {@code out} must not exist (an existing
   * empty folder is replaced).
   */
  public static Path staged(Path out, AtomicFiles.FolderContent content) {
    return staged(out, false, content);
  }

  /** As {@link #staged(Path, AtomicFiles.FolderContent)}; with {@code replace} an existing {@code out} is replaced. */
  static Path staged(Path out, boolean replace, AtomicFiles.FolderContent content) {
    Path abs = out.toAbsolutePath().normalize();
    if (abs.getParent() == null) throw new UserInputException(out + ": cannot write a model at the file system root");
    if (!replace && Files.exists(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !isEmptyDir(abs))
      throw new UserInputException(out + ": already exists; choose a new --out folder");
    try {
      AtomicFiles.writeFolder(abs, false, content);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }

  private static boolean isEmptyDir(Path p) {
    if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false;
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    } catch (IOException e) {
      return false;
    }
  }
}
