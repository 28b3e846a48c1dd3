package org.sr4g.diffusion;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.BuiltInUNets;

/**
 * The configs of a whole Stable Diffusion pipeline that need no download: the {@code config.json} files of
 * runwayml/stable-diffusion-v1-5 and stabilityai/stable-diffusion-2-1 (768 px, v-prediction) / -2-1-base (512 px,
 * epsilon) — what a single-file checkpoint, which carries weights only, is converted with — and the tiny random
 * model of the tests. Only the fields sr4g reads or diffusers needs to load the folder are kept.
 *
 * @param name short name for messages ("SD 1.x", …)
 * @param padToken the tokenizer's pad token ({@code <|endoftext|>} for SD 1.x, {@code !} for SD 2.x)
 */
public record PipelineConfigs(String name, JsonNode unet, JsonNode vae, JsonNode textEncoder, JsonNode scheduler,
    String padToken) {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String SD_VAE = """
      {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
       "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
       "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
       "sample_size": 512, "scaling_factor": 0.18215,
       "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}""";

  /** openai/clip-vit-large-patch14's text model, as in SD 1.x's {@code text_encoder/config.json}. */
  private static final String CLIP_L = """
      {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "vocab_size": 49408, "hidden_size": 768,
       "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12, "max_position_embeddings": 77,
       "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
       "projection_dim": 768}""";

  /**
   * OpenCLIP ViT-H/14's text tower as SD 2.x's {@code text_encoder/config.json} has it: 23 of its 24 layers (SD 2.x
   * conditions on the penultimate layer, through the final layer norm), GELU.
   */
  private static final String OPEN_CLIP_H = """
      {"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "vocab_size": 49408, "hidden_size": 1024,
       "intermediate_size": 4096, "num_hidden_layers": 23, "num_attention_heads": 16, "max_position_embeddings": 77,
       "hidden_act": "gelu", "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
       "projection_dim": 512}""";

  private static final String SD_BETAS = """
      "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
      "trained_betas": null, "clip_sample": false, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1""";

  /** SD 1.5: PNDM, epsilon. */
  public static PipelineConfigs sd15() {
    return new PipelineConfigs("SD 1.x", json(BuiltInUNets.SD15), json(SD_VAE), json(CLIP_L),
        json("{\"_class_name\": \"PNDMScheduler\", \"prediction_type\": \"epsilon\", " + SD_BETAS + "}"),
        "<|endoftext|>");
  }

  /**
   * SD 2.1: with {@code vPrediction} the 768 px model (DDIM, v_prediction, UNet sample_size 96), else the 512 px base
   * model (PNDM, epsilon, sample_size 64).
   */
  public static PipelineConfigs sd21(boolean vPrediction) {
    ObjectNode unet = (ObjectNode) json(BuiltInUNets.SD21);
    ObjectNode vae = (ObjectNode) json(SD_VAE);
    unet.put("sample_size", vPrediction ? 96 : 64);
    vae.put("sample_size", vPrediction ? 768 : 512);
    String scheduler = vPrediction
        ? "{\"_class_name\": \"DDIMScheduler\", \"prediction_type\": \"v_prediction\", " + SD_BETAS + "}"
        : "{\"_class_name\": \"PNDMScheduler\", \"prediction_type\": \"epsilon\", " + SD_BETAS + "}";
    return new PipelineConfigs(vPrediction ? "SD 2.x (768 px, v-prediction)" : "SD 2.x (512 px, epsilon)", unet, vae,
        json(OPEN_CLIP_H), json(scheduler), "!");
  }

  /**
   * The tiny random model of the tests and of {@code sr4g init-model --shape tiny}: UNet 32/64 channels, VAE ×2, a
   * 2-layer CLIP over the 514-token byte vocabulary of {@code ByteVocabulary}, DDIM.
   */
  public static PipelineConfigs tiny() {
    return new PipelineConfigs("tiny", json(BuiltInUNets.TINY), json("""
        {"_class_name": "AutoencoderKL", "latent_channels": 4, "layers_per_block": 1, "norm_num_groups": 8,
         "scaling_factor": 0.18215, "block_out_channels": [32, 32],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]}"""), json("""
        {"vocab_size": 514, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "eos_token_id": 513}"""),
        json("""
        {"_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
         "beta_schedule": "scaled_linear", "steps_offset": 1, "set_alpha_to_one": false, "clip_sample": false}"""),
        "<|endoftext|>");
  }

  /**
   * The configs of the diffusers folder {@code dir} ({@code unet/config.json}, {@code vae/config.json},
   * {@code text_encoder/config.json}, {@code scheduler/scheduler_config.json}; the pad token from
   * {@code tokenizer/special_tokens_map.json} when present), for a single file of another architecture or size
   * (diffusers' {@code from_single_file(config=…)}).
   */
  public static PipelineConfigs fromFolder(Path dir) {
    JsonNode pad = read(dir.resolve("tokenizer/special_tokens_map.json"), true);
    String padToken = "<|endoftext|>";
    if (pad != null) {
      JsonNode p = pad.get("pad_token");
      if (p != null && p.isObject()) p = p.get("content");
      if (p != null && p.isTextual()) padToken = p.textValue();
    }
    return new PipelineConfigs("config of " + dir, read(dir.resolve("unet/config.json"), false),
        read(dir.resolve("vae/config.json"), false), read(dir.resolve("text_encoder/config.json"), false),
        read(dir.resolve("scheduler/scheduler_config.json"), false), padToken);
  }

  private static JsonNode read(Path file, boolean optional) {
    if (optional && !Files.isRegularFile(file)) return null;
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (n == null || !n.isObject()) throw new UserInputException(file + ": not a JSON object");
      return n;
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The same configs with the scheduler's {@code prediction_type} set. */
  public PipelineConfigs withPredictionType(String predictionType) {
    ObjectNode s = scheduler.deepCopy();
    s.put("prediction_type", predictionType);
    return new PipelineConfigs(name, unet, vae, textEncoder, s, padToken);
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
