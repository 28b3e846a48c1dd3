package org.sr4g.diffusion.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.DiffusersModel;
import org.sr4g.diffusion.Txt2Img;
import org.sr4g.diffusion.safetensors.SafetensorsFile;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;
import org.sr4g.diffusion.safetensors.TensorInfo;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.io.Escape;
import org.sr4g.io.OutputRules;
import org.sr4g.io.Staging;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;
import org.sr4g.io.AtomicFiles;

/**
 * {@code sr4g cache}: the VAE posterior (mean and std, before {@code scaling_factor}) of every image of a train.jsonl,
 * centre-cropped at one resolution, and the CLIP {@code last_hidden_state} of every unique caption, computed once.
 *
 * <p>Layout of the cache folder (written in a {@link Staging} folder and renamed: complete or absent):
 * {@code index.json} (resolution, scaling factor, shapes, shard file names, and the samples in train.jsonl order:
 * {@code image} and {@code caption} indexes, file name, caption text), {@code latents-NNNNN.safetensors} holding
 * {@code mean/<i>} and {@code std/<i>} for images {@code i} of that shard, {@code text-NNNNN.safetensors} holding
 * {@code emb/<j>} for captions {@code j}. Shards hold {@code shardSize} images or captions. Unreadable images are
 * skipped (their rows are not samples) and counted.
 */
public final class LatentCache implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final int DEFAULT_SHARD_SIZE = 1000;

  public record Sample(int image, int caption) {}

  public record BuildResult(Path dir, int samples, int images, int captions, int skippedRows, List<String> skippedFiles) {}

  private final Path dir;
  private final int resolution;
  private final int shardSize;
  private final long[] latentShape;
  private final long[] embShape;
  private final List<Sample> samples;
  private final Map<String, SafetensorsFile> open = new LinkedHashMap<>();
  private final JsonNode index;

  private LatentCache(Path dir, JsonNode index) {
    String f = Escape.text(dir.resolve("index.json").toString());
    if (index == null || index.isMissingNode()) throw new UserInputException(f + ": empty file");
    if (!index.isObject()) throw new UserInputException(f + ": expected a JSON object");
    this.dir = dir;
    this.index = index;
    this.resolution = intField(index, "resolution", 8, 1 << 16, f);
    this.shardSize = intField(index, "shard_size", 1, Integer.MAX_VALUE, f);
    int images = intField(index, "images", 0, Integer.MAX_VALUE, f);
    int captions = intField(index, "captions", 0, Integer.MAX_VALUE, f);
    this.latentShape = shape(index, "latent_shape", 3, f);
    this.embShape = shape(index, "embedding_shape", 2, f);
    JsonNode all = index.get("samples");
    if (all == null || !all.isArray()) throw new UserInputException(f + ": 'samples' must be an array");
    List<Sample> s = new ArrayList<>(all.size());
    for (int i = 0; i < all.size(); i++) {
      JsonNode n = all.get(i);
      String at = f + ": samples[" + i + "]";
      if (!n.isObject()) throw new UserInputException(at + ": expected an object");
      s.add(new Sample(intField(n, "image", 0, images - 1, at), intField(n, "caption", 0, captions - 1, at)));
    }
    this.samples = List.copyOf(s);
  }

  /** An integer field in [min, max]: 1e30, 2^40, 3.5 or "zero" are refused, not read as something else. */
  private static int intField(JsonNode n, String key, int min, int max, String where) {
    JsonNode v = n.get(key);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max)
      throw new UserInputException(where + ": '" + key + "' must be an integer in [" + min + ", " + max + "], found "
          + (v == null ? "nothing" : Escape.text(v.toString(), 40)));
    return v.intValue();
  }

  /** {@code rank} positive integers whose product fits an int (one sample's values are one Java array). */
  private static long[] shape(JsonNode n, String key, int rank, String where) {
    JsonNode a = n.get(key);
    if (a == null || !a.isArray() || a.size() != rank)
      throw new UserInputException(where + ": '" + key + "' must be an array of " + rank + " positive integers");
    long[] r = new long[rank];
    long product = 1;
    for (int i = 0; i < rank; i++) {
      r[i] = intField(a, i, where + ": " + key);
      product *= r[i];
      if (product > (1 << 28)) throw new UserInputException(where + ": '" + key + "' is too large: " + a);
    }
    return r;
  }

  private static int intField(JsonNode a, int i, String where) {
    JsonNode v = a.get(i);
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1)
      throw new UserInputException(where + "[" + i + "] must be a positive integer, found " + Escape.text(v.toString(), 40));
    return v.intValue();
  }

  public static LatentCache open(Path dir) {
    Path idx = dir.resolve("index.json");
    if (!Files.isRegularFile(idx))
      throw new UserInputException("--cache " + Escape.text(dir.toString()) + ": no index.json (not a cache made by sr4g cache)");
    JsonNode root;
    try {
      root = JSON.readTree(idx.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UserInputException("--cache " + Escape.text(idx.toString()) + ":"
          + (e.getLocation() == null ? "" : e.getLocation().getLineNr() + ":") + " not valid JSON: "
          + Escape.text(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new UserInputException("--cache " + Escape.text(idx.toString()) + ": cannot read: " + Escape.text(e.getMessage()));
    }
    return new LatentCache(dir, root);
  }

  public int resolution() {
    return resolution;
  }

  public List<Sample> samples() {
    return samples;
  }

  /** [C, h, w] of one latent. */
  public long[] latentShape() {
    return latentShape.clone();
  }

  /** [77, hidden] of one caption embedding. */
  public long[] embeddingShape() {
    return embShape.clone();
  }

  public String modelPath() {
    return index.path("model").asText();
  }

  public float[] mean(int image) {
    return values(shard("latents", image), "mean/" + image, latentShape);
  }

  public float[] std(int image) {
    return values(shard("latents", image), "std/" + image, latentShape);
  }

  public float[] embedding(int caption) {
    return values(shard("text", caption), "emb/" + caption, embShape);
  }

  /** One sample's tensor, which must hold exactly the index's shape (a short tensor would misalign a batch). */
  private static float[] values(SafetensorsFile f, String key, long[] shape) {
    TensorInfo info = f.info(key);
    if (!java.util.Arrays.equals(info.shape(), shape))
      throw new UserInputException(Escape.text(f.path().toString()) + ": tensor '" + key + "' has shape "
          + java.util.Arrays.toString(info.shape()) + ", index.json says " + java.util.Arrays.toString(shape));
    return f.readFloats(key);
  }

  private synchronized SafetensorsFile shard(String kind, int i) {
    String name = String.format("%s-%05d.safetensors", kind, i / shardSize);
    return open.computeIfAbsent(name, n -> SafetensorsFile.open(dir.resolve(n)));
  }

  /**
   * Sample index of stream position {@code p}: the same permutation as {@link DataLoader} (per-pair order), so a
   * cache without skipped images yields the same examples in the same order as training from the images.
   */
  public final class Stream {
    private final long seed;
    private int[] permutation;
    private long epoch = -1;

    public Stream(long seed) {
      this.seed = seed;
    }

    public Sample at(long p) {
      int n = samples.size();
      long e = p / n;
      if (e != epoch) {
        permutation = DataLoader.shuffle(n, DataLoader.mix(seed, e, 0x5348554646L));
        epoch = e;
      }
      return samples.get(permutation[(int) (p % n)]);
    }
  }

  @Override
  public synchronized void close() {
    for (SafetensorsFile f : open.values()) f.close();
    open.clear();
  }

  /** Encodes {@code data}'s images and captions with {@code model} into {@code out} (which must not exist yet). */
  public static BuildResult build(Path modelDir, Path data, Path images, Path out, int res, String device, int shardSize,
      int batch, Consumer<String> progress) {
    return build(modelDir, data, images, out, res, device, shardSize, batch, ImagePrep.DEFAULT_MAX_PIXELS, progress);
  }

  /** {@code maxPixels}: images with more pixels are refused before decoding ({@code --max-image-pixels}). */
  public static BuildResult build(Path modelDir, Path data, Path images, Path out, int res, String device, int shardSize,
      int batch, long maxPixels, Consumer<String> progress) {
    if (shardSize < 1) throw new UserInputException("--shard-size must be at least 1");
    if (batch < 1) throw new UserInputException("--batch-size must be at least 1");
    OutputRules.checkFolder(out, false, false, List.of(data)); // absent or empty: a cache is never replaced
    if (!Files.isDirectory(images)) throw new UserInputException("--images " + images + ": not a folder");
    Device dev = Device.forUser(device);
    List<TrainRow> rows = TrainData.read(data);
    Map<String, Integer> imageIds = new LinkedHashMap<>();
    Map<String, Integer> captionIds = new LinkedHashMap<>();
    Map<String, TrainRow> rowOf = new LinkedHashMap<>();
    for (TrainRow r : rows) {
      rowOf.putIfAbsent(r.fileName(), r);
      imageIds.putIfAbsent(r.fileName(), imageIds.size());
      captionIds.putIfAbsent(r.caption(), captionIds.size());
    }
    Path abs = OutputRules.absolute(out);
    Path tmp = null;
    boolean moved = false;
    try (DiffusersModel m = DiffusersModel.load(modelDir, null, dev)) {
      m.packForInference(); // the VAE's conv weights packed once (CPU); both encoders only run forwards here
      int multiple = new Txt2Img(m, dev).sizeMultiple();
      if (res % multiple != 0)
        throw new UserInputException("--resolution " + res + " must be a multiple of " + multiple + " for this model");
      Files.createDirectories(abs.getParent());
      Staging.cleanStale(abs);
      tmp = Staging.newFolder(abs);
      List<String> names = new ArrayList<>(imageIds.keySet());
      boolean[] ok = new boolean[names.size()];
      List<String> skipped = new ArrayList<>();
      long[] latentShape = null;
      // Images: shard by shard, VAE-encoded in batches of `batch`.
      for (int s0 = 0; s0 < names.size(); s0 += shardSize) {
        SafetensorsWriter w = new SafetensorsWriter();
        int s1 = Math.min(names.size(), s0 + shardSize);
        for (int b0 = s0; b0 < s1; b0 += batch) {
          int b1 = Math.min(s1, b0 + batch);
          List<Integer> idx = new ArrayList<>();
          List<float[]> px = new ArrayList<>();
          for (int i = b0; i < b1; i++) {
            Path file = TrainData.image(images, rowOf.get(names.get(i)));
            BufferedImage img = file == null ? null : ImagePrep.decode(file, maxPixels);
            if (img == null) {
              skipped.add(names.get(i));
              continue;
            }
            int[] rs = ImagePrep.resizedSize(img.getWidth(), img.getHeight(), res);
            px.add(ImagePrep.prepare(img, res, (rs[0] - res) / 2, (rs[1] - res) / 2, false));
            idx.add(i);
          }
          if (idx.isEmpty()) continue;
          float[] all = new float[idx.size() * 3 * res * res];
          for (int k = 0; k < idx.size(); k++) System.arraycopy(px.get(k), 0, all, k * 3 * res * res, 3 * res * res);
          try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
            var post = m.vae().encode(Tensor.of(all, idx.size(), 3, res, res).to(dev));
            long[] sh = post.mean().shape();
            latentShape = new long[] {sh[1], sh[2], sh[3]};
            int per = (int) (sh[1] * sh[2] * sh[3]);
            float[] mean = post.mean().to(Device.CPU).contiguous().toFloatArray();
            float[] std = post.std().to(Device.CPU).contiguous().toFloatArray();
            for (int k = 0; k < idx.size(); k++) {
              w.putF32("mean/" + idx.get(k), java.util.Arrays.copyOfRange(mean, k * per, (k + 1) * per), latentShape);
              w.putF32("std/" + idx.get(k), java.util.Arrays.copyOfRange(std, k * per, (k + 1) * per), latentShape);
              ok[idx.get(k)] = true;
            }
          }
        }
        w.write(tmp.resolve(String.format("latents-%05d.safetensors", s0 / shardSize)));
        progress.accept(String.format("images %d/%d", s1, names.size()));
      }
      if (latentShape == null) throw new UserInputException("none of the images under " + images + " could be read");
      // Captions: one CLIP forward per batch.
      List<String> caps = new ArrayList<>(captionIds.keySet());
      long[] embShape = null;
      for (int s0 = 0; s0 < caps.size(); s0 += shardSize) {
        SafetensorsWriter w = new SafetensorsWriter();
        int s1 = Math.min(caps.size(), s0 + shardSize);
        for (int b0 = s0; b0 < s1; b0 += batch) {
          int b1 = Math.min(s1, b0 + batch), n = b1 - b0;
          long[] ids = new long[n * ClipTokenizer.CONTEXT_LENGTH];
          for (int k = 0; k < n; k++)
            System.arraycopy(m.tokenizer().tokenize(caps.get(b0 + k)), 0, ids, k * ClipTokenizer.CONTEXT_LENGTH,
                ClipTokenizer.CONTEXT_LENGTH);
          try (ModeGuard ng = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
            Tensor e = m.textEncoder().encode(Tensor.of(ids, n, ClipTokenizer.CONTEXT_LENGTH).to(dev), 1);
            long[] sh = e.shape();
            embShape = new long[] {sh[1], sh[2]};
            int per = (int) (sh[1] * sh[2]);
            float[] v = e.to(Device.CPU).contiguous().toFloatArray();
            for (int k = 0; k < n; k++)
              w.putF32("emb/" + (b0 + k), java.util.Arrays.copyOfRange(v, k * per, (k + 1) * per), embShape);
          }
        }
        w.write(tmp.resolve(String.format("text-%05d.safetensors", s0 / shardSize)));
        progress.accept(String.format("captions %d/%d", s1, caps.size()));
      }
      ObjectNode idx = JSON.createObjectNode();
      idx.put("format", "sr4g-latent-cache-1").put("model", modelDir.toAbsolutePath().toString())
          .put("data", data.toAbsolutePath().toString()).put("resolution", res).put("shard_size", shardSize)
          .put("crop", "center").put("scaling_factor", m.vae().scalingFactor());
      ArrayNode ls = idx.putArray("latent_shape");
      for (long v : latentShape) ls.add(v);
      ArrayNode es = idx.putArray("embedding_shape");
      for (long v : embShape) es.add(v);
      idx.put("images", names.size()).put("captions", caps.size()).put("data_rows", rows.size());
      ArrayNode sa = idx.putArray("samples");
      int skippedRows = 0;
      for (TrainRow r : rows) {
        int i = imageIds.get(r.fileName());
        if (!ok[i]) {
          skippedRows++;
          continue;
        }
        sa.addObject().put("image", i).put("caption", captionIds.get(r.caption())).put("file_name", r.fileName())
            .put("caption_text", r.caption());
      }
      Files.write(tmp.resolve("index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(idx));
      try (var files = Files.list(tmp)) {
        for (Path f : files.toList()) AtomicFiles.fsync(f, false);
      }
      OutputRules.mark(tmp, "cache");
      AtomicFiles.fsync(tmp, true);
      AtomicFiles.move(tmp, abs);
      moved = true;
      AtomicFiles.fsync(abs.getParent(), true);
      return new BuildResult(abs, sa.size(), names.size(), caps.size(), skippedRows, skipped);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the cache " + out + ": " + e.getMessage(), e);
    } finally {
      if (!moved && tmp != null) {
        try {
          Staging.deleteTree(tmp);
        } catch (IOException ignored) {
          // the next build beside this target removes it (Staging.cleanStale)
        }
      }
    }
  }
}
