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
import org.sr4g.diffusion.tokenizer.ClipTokenizer;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * {@code sr4g cache}: the VAE posterior (mean and std, before {@code scaling_factor}) of every image of a train.jsonl,
 * centre-cropped at one resolution, and the CLIP {@code last_hidden_state} of every unique caption, computed once.
 *
 * <p>Layout of the cache folder (written as a sibling {@code .NAME.tmp} folder and renamed: complete or absent):
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
    this.dir = dir;
    this.index = index;
    this.resolution = index.get("resolution").asInt();
    this.shardSize = index.get("shard_size").asInt();
    this.latentShape = longs(index.get("latent_shape"));
    this.embShape = longs(index.get("embedding_shape"));
    List<Sample> s = new ArrayList<>();
    for (JsonNode n : index.get("samples")) s.add(new Sample(n.get("image").asInt(), n.get("caption").asInt()));
    this.samples = List.copyOf(s);
  }

  private static long[] longs(JsonNode a) {
    long[] r = new long[a.size()];
    for (int i = 0; i < r.length; i++) r[i] = a.get(i).asLong();
    return r;
  }

  public static LatentCache open(Path dir) {
    Path idx = dir.resolve("index.json");
    if (!Files.isRegularFile(idx)) throw new UserInputException("--cache " + dir + ": no index.json (not a cache made by sr4g cache)");
    try {
      return new LatentCache(dir, JSON.readTree(idx.toFile()));
    } catch (IOException e) {
      throw new UserInputException("--cache " + idx + ": " + e.getMessage(), e);
    }
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
    return shard("latents", image).readFloats("mean/" + image);
  }

  public float[] std(int image) {
    return shard("latents", image).readFloats("std/" + image);
  }

  public float[] embedding(int caption) {
    return shard("text", caption).readFloats("emb/" + caption);
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
    if (shardSize < 1) throw new UserInputException("--shard-size must be at least 1");
    if (batch < 1) throw new UserInputException("--batch-size must be at least 1");
    if (Files.exists(out)) throw new UserInputException("--out " + out + " already exists");
    if (!Files.isDirectory(images)) throw new UserInputException("--images " + images + ": not a folder");
    Device dev = Device.forUser(device);
    List<TrainRow> rows = TrainData.read(data);
    Map<String, Integer> imageIds = new LinkedHashMap<>();
    Map<String, Integer> captionIds = new LinkedHashMap<>();
    for (TrainRow r : rows) {
      imageIds.putIfAbsent(r.fileName(), imageIds.size());
      captionIds.putIfAbsent(r.caption(), captionIds.size());
    }
    Path abs = out.toAbsolutePath();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
    try (DiffusersModel m = DiffusersModel.load(modelDir, null, dev)) {
      m.packForInference(); // the VAE's conv weights packed once (CPU); both encoders only run forwards here
      int multiple = new Txt2Img(m, dev).sizeMultiple();
      if (res % multiple != 0)
        throw new UserInputException("--resolution " + res + " must be a multiple of " + multiple + " for this model");
      Checkpoints.deleteTree(tmp);
      Files.createDirectories(tmp);
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
            BufferedImage img = ImagePrep.decode(images.resolve(names.get(i)));
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
        for (Path f : files.toList()) Checkpoints.fsync(f, false);
      }
      Checkpoints.fsync(tmp, true);
      Checkpoints.move(tmp, abs);
      Checkpoints.fsync(abs.getParent(), true);
      return new BuildResult(abs, sa.size(), names.size(), caps.size(), skippedRows, skipped);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the cache " + out + ": " + e.getMessage(), e);
    }
  }
}
