package org.sr4g.diffusion;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.sr4g.diffusion.models.AutoencoderKl;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ClipTextModel;
import org.sr4g.diffusion.models.UNet2DConditionModel;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.safetensors.SafetensorsWriter;

/**
 * Writes a complete, tiny, randomly initialised diffusers folder (UNet 32/64 channels, VAE ×2, 2-layer CLIP, a
 * 514-token byte-level vocabulary without merges, DDIM scheduler): enough to run the whole text-to-image path on a CPU
 * in seconds (smoke tests). The images are noise-like, not pictures.
 */
public final class RandomModelFolder {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RandomModelFolder() {}

  public static Path write(Path dir, long seed) {
    try {
      SplittableRandom rnd = new SplittableRandom(seed);
      ObjectNode unet = JSON.createObjectNode().put("_class_name", "UNet2DConditionModel").put("in_channels", 4)
          .put("out_channels", 4).put("layers_per_block", 1).put("norm_num_groups", 8).put("cross_attention_dim", 32)
          .put("attention_head_dim", 4).put("sample_size", 8);
      unet.putArray("block_out_channels").add(32).add(64);
      unet.putArray("down_block_types").add("CrossAttnDownBlock2D").add("DownBlock2D");
      unet.putArray("up_block_types").add("UpBlock2D").add("CrossAttnUpBlock2D");
      ObjectNode vae = JSON.createObjectNode().put("_class_name", "AutoencoderKL").put("latent_channels", 4)
          .put("layers_per_block", 1).put("norm_num_groups", 8).put("scaling_factor", 0.18215);
      vae.putArray("block_out_channels").add(32).add(32);
      vae.putArray("down_block_types").add("DownEncoderBlock2D").add("DownEncoderBlock2D");
      vae.putArray("up_block_types").add("UpDecoderBlock2D").add("UpDecoderBlock2D");
      ObjectNode clip = JSON.createObjectNode().put("vocab_size", 514).put("hidden_size", 32)
          .put("intermediate_size", 64).put("num_hidden_layers", 2).put("num_attention_heads", 4)
          .put("max_position_embeddings", 77).put("hidden_act", "quick_gelu").put("eos_token_id", 513);
      ObjectNode scheduler = JSON.createObjectNode().put("_class_name", "DDIMScheduler")
          .put("num_train_timesteps", 1000).put("beta_start", 0.00085).put("beta_end", 0.012)
          .put("beta_schedule", "scaled_linear").put("steps_offset", 1).put("set_alpha_to_one", false)
          .put("clip_sample", false);
      json(dir.resolve("unet/config.json"), unet);
      json(dir.resolve("vae/config.json"), vae);
      json(dir.resolve("text_encoder/config.json"), clip);
      json(dir.resolve("scheduler/scheduler_config.json"), scheduler);
      ObjectNode index = JSON.createObjectNode().put("_class_name", "StableDiffusionPipeline");
      index.putArray("unet").add("diffusers").add("UNet2DConditionModel");
      index.putArray("vae").add("diffusers").add("AutoencoderKL");
      index.putArray("text_encoder").add("transformers").add("CLIPTextModel");
      index.putArray("tokenizer").add("transformers").add("CLIPTokenizer");
      index.putArray("scheduler").add("diffusers").add("DDIMScheduler");
      json(dir.resolve("model_index.json"), index);
      weights(dir.resolve("unet/diffusion_pytorch_model.safetensors"),
          UNet2DConditionModel.parameterShapes(UNetConfig.read(dir.resolve("unet/config.json"))), rnd);
      weights(dir.resolve("vae/diffusion_pytorch_model.safetensors"),
          AutoencoderKl.parameterShapes(AutoencoderKlConfig.read(dir.resolve("vae/config.json"))), rnd);
      weights(dir.resolve("text_encoder/model.safetensors"),
          ClipTextModel.parameterShapes(ClipTextConfig.read(dir.resolve("text_encoder/config.json"))), rnd);
      tokenizer(dir.resolve("tokenizer"));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void json(Path file, ObjectNode node) throws IOException {
    Files.createDirectories(file.getParent());
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), node);
  }

  /** Norm scales 1, everything else N(0, 0.05²): small enough that activations stay finite through every block. */
  private static void weights(Path file, Map<String, long[]> shapes, SplittableRandom rnd) {
    SafetensorsWriter w = new SafetensorsWriter();
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      long n = 1;
      for (long d : e.getValue()) n *= d;
      float[] v = new float[Math.toIntExact(n)];
      boolean normScale = e.getKey().endsWith(".weight") && e.getKey().matches(".*norm[^.]*\\.weight");
      for (int i = 0; i < v.length; i++) v[i] = normScale ? 1f : (float) (0.05 * gaussian(rnd));
      w.putF32(e.getKey(), v, e.getValue());
    }
    w.write(file);
  }

  private static double gaussian(SplittableRandom rnd) {
    double u = 1.0 - rnd.nextDouble(), v = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * The 256 byte characters of GPT-2's bytes_to_unicode, each also with {@code </w>}, then the start and end tokens
   * (ids 512, 513); no merges, so every character is its own token.
   */
  /** Writes the 514-token byte-level tokenizer (vocab.json, merges.txt) into {@code dir}. */
  public static void tokenizer(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, Integer> vocab = new LinkedHashMap<>();
    char[] chars = bytesToUnicode();
    for (char c : chars) vocab.put(String.valueOf(c), vocab.size());
    for (char c : chars) vocab.put(c + "</w>", vocab.size());
    vocab.put("<|startoftext|>", vocab.size());
    vocab.put("<|endoftext|>", vocab.size());
    JSON.writeValue(dir.resolve("vocab.json").toFile(), vocab);
    Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
  }

  /** GPT-2's table: printable Latin-1 bytes map to themselves, the others to U+0100 onwards in byte order. */
  private static char[] bytesToUnicode() {
    char[] out = new char[256];
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      out[b] = (char) (printable ? b : next++);
    }
    return out;
  }
}
