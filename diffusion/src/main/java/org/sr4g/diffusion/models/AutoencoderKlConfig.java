package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.List;
import org.sr4g.UserInputException;

/** The fields of a diffusers AutoencoderKL {@code vae/config.json} that shape the network. */
public record AutoencoderKlConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
    int layersPerBlock, int normNumGroups, double scalingFactor, boolean useQuantConv, boolean usePostQuantConv,
    boolean midBlockAddAttention) {

  public AutoencoderKlConfig {
    blockOutChannels = List.copyOf(blockOutChannels);
    if (blockOutChannels.isEmpty()) throw new UserInputException("VAE config: block_out_channels is empty");
  }

  public static AutoencoderKlConfig read(Path configJson) {
    return from(ConfigJson.read(configJson));
  }

  /** Parses a parsed {@code config.json} ({@code source} names it in error messages). */
  public static AutoencoderKlConfig fromJson(com.fasterxml.jackson.databind.JsonNode json, String source) {
    if (json == null || !json.isObject()) throw new UserInputException(source + ": not a JSON object");
    return from(ConfigJson.of(json, source));
  }

  static AutoencoderKlConfig from(ConfigJson c) {
    String act = c.string("act_fn", "silu");
    if (!act.equals("silu")) throw c.bad("act_fn", "\"silu\"");
    List<Integer> blocks = c.integers("block_out_channels");
    for (String key : new String[] {"down_block_types", "up_block_types"}) {
      List<String> types = c.strings(key);
      String want = key.startsWith("down") ? "DownEncoderBlock2D" : "UpDecoderBlock2D";
      if (types.size() != blocks.size() || types.stream().anyMatch(t -> !t.equals(want)))
        throw c.bad(key, blocks.size() + " × \"" + want + "\"");
    }
    // Defaults are diffusers' AutoencoderKL defaults.
    return new AutoencoderKlConfig(c.integer("in_channels", 3), c.integer("out_channels", 3),
        c.integer("latent_channels", 4), blocks, c.integer("layers_per_block", 1), c.integer("norm_num_groups", 32),
        c.number("scaling_factor", 0.18215), c.bool("use_quant_conv", true), c.bool("use_post_quant_conv", true),
        c.bool("mid_block_add_attention", true));
  }
}
