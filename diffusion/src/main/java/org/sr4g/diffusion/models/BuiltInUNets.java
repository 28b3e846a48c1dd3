package org.sr4g.diffusion.models;

import java.util.List;
import org.sr4g.UserInputException;

/**
 * UNet configs that need no folder: the exact {@code unet/config.json} of Stable Diffusion 1.5
 * (runwayml/stable-diffusion-v1-5) and 2.1 (stabilityai/stable-diffusion-2-1), and the tiny config of
 * {@code RandomModelFolder} used in tests. With {@link RandomWeights} they give a runnable, randomly initialised UNet
 * of the real size (for benchmarks: speed and memory do not depend on the values).
 */
public final class BuiltInUNets {
  private BuiltInUNets() {}

  public static final String SD15 = """
      {"act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
       "center_input_sample": false, "cross_attention_dim": 768,
       "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
       "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
       "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
       "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}""";

  /** SD 2.1: per-block heads [5, 10, 20, 20] (64-dim heads), 1024-wide OpenCLIP context, linear projections. */
  public static final String SD21 = """
      {"act_fn": "silu", "attention_head_dim": [5, 10, 20, 20], "block_out_channels": [320, 640, 1280, 1280],
       "center_input_sample": false, "cross_attention_dim": 1024,
       "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
       "downsample_padding": 1, "dual_cross_attention": false, "flip_sin_to_cos": true, "freq_shift": 0,
       "in_channels": 4, "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05,
       "norm_num_groups": 32, "out_channels": 4, "sample_size": 96, "use_linear_projection": true,
       "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}""";

  /** The tiny UNet of {@code RandomModelFolder} (32/64 channels, 4 heads, 32-wide context). */
  public static final String TINY = """
      {"_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4, "layers_per_block": 1,
       "norm_num_groups": 8, "cross_attention_dim": 32, "attention_head_dim": 4, "sample_size": 8,
       "block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
       "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"]}""";

  public static final List<String> NAMES = List.of("sd15", "sd21", "tiny");

  /** The config named {@code sd15}, {@code sd21} or {@code tiny}. */
  public static UNetConfig config(String name) {
    return switch (name) {
      case "sd15" -> UNetConfig.fromJson(SD15, "built-in sd15 UNet config");
      case "sd21" -> UNetConfig.fromJson(SD21, "built-in sd21 UNet config");
      case "tiny" -> UNetConfig.fromJson(TINY, "built-in tiny UNet config");
      default -> throw new UserInputException("unknown shape '" + name + "' (one of " + String.join(", ", NAMES) + ")");
    };
  }

  /** Pixels per latent cell of the model a built-in UNet belongs to: 8 for SD, 2 for the tiny test model. */
  public static int vaeFactor(String name) {
    config(name); // refuses unknown names
    return name.equals("tiny") ? 2 : 8;
  }

  /** The image size the model was trained at: {@code sample_size} × the VAE factor (512, 768, 16). */
  public static int defaultResolution(String name) {
    return config(name).sampleSize() * vaeFactor(name);
  }

  /** Tokens of the text-encoder output the UNet is conditioned on (CLIP's 77 for every SD model). */
  public static final int TEXT_TOKENS = 77;
}
