package org.sr4g.diffusion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.sr4g.OptionValue;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.tokenizer.ByteVocabulary;

/**
 * Writes a complete, loadable diffusers folder with random weights ({@code sr4g init-model}): every command can be
 * tried offline, and the tests run the whole pipeline on it. The images are noise-like, not pictures.
 *
 * <ul>
 *   <li>{@link Shape#TINY}: UNet 32/64 channels, VAE ×2, 2-layer CLIP, DDIM ({@link PipelineConfigs#tiny()}); about
 *       4 MB, written in well under a second; float32.
 *   <li>{@link Shape#SD15_RANDOM}: the exact configs of Stable Diffusion 1.5 ({@link PipelineConfigs#sd15()}, 1.07 B
 *       parameters) for trying memory and speed at full size; the weights are stored as float16 (2.1 GB).
 * </ul>
 *
 * Both use {@link ByteVocabulary}, a 514-token byte-level tokenizer that needs no download. Weights: norm scales 1,
 * everything else N(0, σ²) with σ = min(0.05, 1/√fan_in) (fan_in: a weight's input features × kernel size; 0.05 for
 * biases and embeddings), drawn from a generator seeded by (seed, key): the same seed gives the same file, whatever
 * the order tensors are written in.
 */
public final class RandomModelFolder {
  private RandomModelFolder() {}

  /** The built-in shapes of {@code sr4g init-model --shape}. */
  public enum Shape implements OptionValue {
    TINY("F32"),
    SD15_RANDOM("F16");

    final String dtype;

    Shape(String dtype) {
      this.dtype = dtype;
    }

    @Override
    public boolean dashed() {
      return true;
    }

    public static Shape parse(String s) {
      return OptionValue.parse(Shape.class, "--shape", s);
    }

    PipelineConfigs configs() {
      return this == TINY ? PipelineConfigs.tiny() : PipelineConfigs.sd15();
    }
  }

  /** The tiny model at {@code dir} (the tests' model), replacing whatever is there. */
  public static Path write(Path dir, long seed) {
    return write(dir, Shape.TINY, seed, true, line -> {});
  }

  /** Writes {@code shape} with random weights from {@code seed} into {@code dir} (new or empty), all or nothing. */
  public static Path write(Path dir, Shape shape, long seed, Consumer<String> progress) {
    return write(dir, shape, seed, false, progress);
  }

  private static Path write(Path dir, Shape shape, long seed, boolean replace, Consumer<String> progress) {
    PipelineConfigs c = shape.configs();
    return ModelWriter.staged(dir, replace, tmp -> {
      ModelWriter.writeJson(tmp.resolve("model_index.json"), ModelWriter.modelIndex(c.scheduler().path("_class_name").asText()));
      ModelWriter.writeJson(tmp.resolve("unet/config.json"), c.unet());
      ModelWriter.writeJson(tmp.resolve("vae/config.json"), c.vae());
      ModelWriter.writeJson(tmp.resolve("text_encoder/config.json"), c.textEncoder());
      ModelWriter.writeJson(tmp.resolve("scheduler/scheduler_config.json"), c.scheduler());
      ByteVocabulary.write(tmp.resolve("tokenizer"), c.padToken());
      weights(tmp.resolve("unet/diffusion_pytorch_model.safetensors"),
          UNet2DConditionModel.LOADER.parameterShapes(UNetConfig.fromJson(c.unet(), "unet/config.json")), shape, seed, progress);
      weights(tmp.resolve("vae/diffusion_pytorch_model.safetensors"),
          AutoencoderKl.LOADER.parameterShapes(AutoencoderKlConfig.fromJson(c.vae(), "vae/config.json")), shape, seed, progress);
      weights(tmp.resolve("text_encoder/model.safetensors"),
          ClipTextModel.LOADER.parameterShapes(ClipTextConfig.fromJson(c.textEncoder(), "text_encoder/config.json")), shape,
          seed, progress);
    });
  }

  private static void weights(Path file, Map<String, long[]> shapes, Shape shape, long seed, Consumer<String> progress)
      throws IOException {
    try {
      ModelWriter.writeWeights(file, shapes, shape.dtype, key -> values(key, shapes.get(key), seed));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    long n = shapes.values().stream().mapToLong(RandomModelFolder::numel).sum();
    progress.accept(String.format(Locale.ROOT, "%s/%s: %,d parameters", file.getParent().getFileName(),
        file.getFileName(), n));
  }

  static float[] values(String key, long[] shape, long seed) {
    float[] v = new float[Math.toIntExact(numel(shape))];
    if (key.endsWith(".weight") && key.matches(".*norm[^.]*\\.weight")) {
      java.util.Arrays.fill(v, 1f);
      return v;
    }
    long fanIn = 1;
    for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
    boolean embedding = key.contains("embedding");
    double sigma = shape.length < 2 || embedding ? 0.05 : Math.min(0.05, 1 / Math.sqrt(fanIn));
    SplittableRandom rnd = new SplittableRandom(seed ^ fnv64(key));
    for (int i = 0; i < v.length; i++) v[i] = (float) (sigma * gaussian(rnd));
    return v;
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  private static long fnv64(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001b3L;
    return h;
  }

  private static double gaussian(SplittableRandom rnd) {
    double u = 1.0 - rnd.nextDouble(), w = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
  }
}
