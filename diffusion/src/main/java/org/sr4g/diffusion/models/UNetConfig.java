package org.sr4g.diffusion.models;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.sr4g.UserInputException;

/**
 * The fields of a diffusers UNet2DConditionModel {@code unet/config.json} this implementation supports (SD 1.x / 2.x
 * shapes). Per-block lists are expanded to one entry per down block. Anything it cannot run (class/addition
 * embeddings, other block types, scale-shift time embedding, …) is refused by name when the config is read.
 *
 * @param numHeads heads per down block ({@code num_attention_heads}, or {@code attention_head_dim}, which diffusers
 *     historically used to mean the number of heads); up blocks use the list reversed, the mid block the last entry
 * @param sampleSize the latent size the model was trained at ({@code sample_size}, 64 when absent): times the VAE
 *     factor it is the default image size of sampling and training, as in diffusers' pipelines
 */
public record UNetConfig(int inChannels, int outChannels, List<Integer> blockOutChannels, List<String> downBlockTypes,
    List<String> upBlockTypes, int layersPerBlock, int normNumGroups, double normEps,
    int crossAttentionDim, List<Integer> numHeads, List<Integer> transformerLayers, boolean useLinearProjection,
    boolean flipSinToCos, double freqShift, int downsamplePadding, boolean centerInputSample, int sampleSize) {

  static final String CROSS_DOWN = "CrossAttnDownBlock2D", DOWN = "DownBlock2D", CROSS_UP = "CrossAttnUpBlock2D",
      UP = "UpBlock2D", MID = "UNetMidBlock2DCrossAttn";

  public UNetConfig {
    blockOutChannels = List.copyOf(blockOutChannels);
    downBlockTypes = List.copyOf(downBlockTypes);
    upBlockTypes = List.copyOf(upBlockTypes);
    numHeads = List.copyOf(numHeads);
    transformerLayers = List.copyOf(transformerLayers);
    int n = blockOutChannels.size();
    if (n == 0 || downBlockTypes.size() != n || upBlockTypes.size() != n || numHeads.size() != n
        || transformerLayers.size() != n)
      throw new UserInputException("UNet config: block_out_channels, down/up_block_types, heads and transformer layers"
          + " must all have one entry per block (" + n + ")");
    for (int i = 0; i < n; i++) {
      if (blockOutChannels.get(i) % numHeads.get(i) != 0)
        throw new UserInputException("UNet config: block " + i + " has " + blockOutChannels.get(i)
            + " channels, not divisible by " + numHeads.get(i) + " heads");
    }
  }

  public static UNetConfig read(Path configJson) {
    return from(ConfigJson.read(configJson));
  }

  /** Parses a parsed {@code config.json} ({@code source} names it in error messages). */
  public static UNetConfig fromJson(com.fasterxml.jackson.databind.JsonNode json, String source) {
    if (json == null || !json.isObject()) throw new UserInputException(source + ": not a JSON object");
    return from(ConfigJson.of(json, source));
  }

  /** Parses the text of a {@code unet/config.json} ({@code source} names it in error messages). */
  public static UNetConfig fromJson(String json, String source) {
    try {
      return from(ConfigJson.of(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json), source));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UserInputException(source + ": not valid JSON: " + e.getOriginalMessage());
    }
  }

  static UNetConfig from(ConfigJson c) {
    refuseNonNull(c, "class_embed_type");
    refuseNonNull(c, "addition_embed_type");
    refuseNonNull(c, "time_cond_proj_dim");
    refuseNonNull(c, "encoder_hid_dim");
    refuseNonNull(c, "time_embedding_dim");
    refuseNonNull(c, "time_embedding_act_fn");
    refuseNonNull(c, "timestep_post_act");
    refuseNonNull(c, "cross_attention_norm");
    refuseNonNull(c, "num_class_embeds");
    if (!c.string("act_fn", "silu").equals("silu")) throw c.bad("act_fn", "\"silu\"");
    if (!c.string("time_embedding_type", "positional").equals("positional"))
      throw c.bad("time_embedding_type", "\"positional\"");
    if (!c.string("resnet_time_scale_shift", "default").equals("default"))
      throw c.bad("resnet_time_scale_shift", "\"default\"");
    if (!c.string("attention_type", "default").equals("default")) throw c.bad("attention_type", "\"default\"");
    if (c.bool("dual_cross_attention", false)) throw c.bad("dual_cross_attention", "false");
    if (c.bool("resnet_skip_time_act", false)) throw c.bad("resnet_skip_time_act", "false");
    if (c.isArray("only_cross_attention") || c.bool("only_cross_attention", false))
      throw c.bad("only_cross_attention", "false");
    if (c.number("resnet_out_scale_factor", 1.0) != 1.0) throw c.bad("resnet_out_scale_factor", "1.0");
    if (c.number("mid_block_scale_factor", 1.0) != 1.0) throw c.bad("mid_block_scale_factor", "1");
    if (c.integer("conv_in_kernel", 3) != 3) throw c.bad("conv_in_kernel", "3");
    if (c.integer("conv_out_kernel", 3) != 3) throw c.bad("conv_out_kernel", "3");
    if (c.isArray("layers_per_block")) throw c.bad("layers_per_block", "a single integer");
    if (c.isArray("cross_attention_dim")) throw c.bad("cross_attention_dim", "a single integer");
    if (c.has("reverse_transformer_layers_per_block")) throw c.bad("reverse_transformer_layers_per_block", "null");

    List<Integer> blocks = c.integers("block_out_channels");
    int n = blocks.size();
    List<String> down = c.strings("down_block_types"), up = c.strings("up_block_types");
    for (String t : down) if (!t.equals(CROSS_DOWN) && !t.equals(DOWN)) throw c.bad("down_block_types", CROSS_DOWN + " or " + DOWN + " entries");
    for (String t : up) if (!t.equals(CROSS_UP) && !t.equals(UP)) throw c.bad("up_block_types", CROSS_UP + " or " + UP + " entries");
    String mid = c.string("mid_block_type", MID);
    if (!mid.equals(MID)) throw c.bad("mid_block_type", "\"" + MID + "\"");
    // diffusers: num_attention_heads = num_attention_heads or attention_head_dim (the historic misnomer).
    String headsKey = c.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
    List<Integer> heads = perBlock(c, headsKey, 8, n);
    List<Integer> layers = perBlock(c, "transformer_layers_per_block", 1, n);
    return new UNetConfig(c.integer("in_channels", 4), c.integer("out_channels", 4), blocks, down, up,
        c.integer("layers_per_block", 2), c.integer("norm_num_groups", 32), c.number("norm_eps", 1e-5),
        c.integer("cross_attention_dim", 1280), heads, layers, c.bool("use_linear_projection", false),
        c.bool("flip_sin_to_cos", true), c.number("freq_shift", 0), c.integer("downsample_padding", 1),
        c.bool("center_input_sample", false), c.integer("sample_size", 64));
  }

  private static List<Integer> perBlock(ConfigJson c, String key, int dflt, int n) {
    if (c.isArray(key)) {
      List<Integer> l = c.integers(key);
      if (l.size() != n) throw c.bad(key, "an integer or a list of " + n + " integers");
      return l;
    }
    return new ArrayList<>(Collections.nCopies(n, c.integer(key, dflt)));
  }

  private static void refuseNonNull(ConfigJson c, String key) {
    if (c.has(key)) throw c.bad(key, "null (not supported)");
  }

  /** Channels of the time embedding MLP (4 × the first block's channels, as diffusers). */
  public int timeEmbedDim() {
    return blockOutChannels.get(0) * 4;
  }
}
