package org.sr4g.diffusion.singlefile;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sr4g.diffusion.models.UNetConfig;

/**
 * Where each diffusers parameter lives in an original (CompVis / Stability "LDM") Stable Diffusion checkpoint, the
 * layout of {@code v1-5-pruned-emaonly.safetensors} or {@code v2-1_768-ema-pruned.safetensors}. The rules are the
 * facts diffusers' single-file loader applies ({@code convert_ldm_unet_checkpoint}, {@code convert_ldm_vae_checkpoint},
 * {@code convert_ldm_clip_checkpoint}, {@code convert_open_clip_checkpoint}), written here in the other direction: one
 * function from a diffusers key (the module trees' names) to its LDM key, so every parameter the model asks for has
 * exactly one place to come from. Returns null for a key with no LDM counterpart.
 *
 * <p>UNet ({@code model.diffusion_model.}): {@code conv_in} is {@code input_blocks.0.0}; down block b, layer j is
 * {@code input_blocks.(1 + b·(L+1) + j)} with the resnet at {@code .0} and the transformer at {@code .1}, its
 * downsampler {@code input_blocks.(1 + b·(L+1) + L).0.op}; the mid block is {@code middle_block.0/1/2}; up block b,
 * layer j is {@code output_blocks.(b·(L+1) + j)}, its upsampler at {@code .1.conv} (or {@code .2.conv} after an
 * attention) of the block's last layer; {@code time_embed.0/2}, {@code out.0/2}. Resnets rename {@code norm1 →
 * in_layers.0}, {@code conv1 → in_layers.2}, {@code time_emb_proj → emb_layers.1}, {@code norm2 → out_layers.0},
 * {@code conv2 → out_layers.3}, {@code conv_shortcut → skip_connection}; transformer keys are the same on both sides.
 *
 * <p>VAE ({@code first_stage_model.}): {@code down_blocks.i.resnets.j → down.i.block.j}, {@code up_blocks.i →
 * up.(n−1−i)} (reversed), {@code mid_block.resnets.k → mid.block_(k+1)}, {@code mid_block.attentions.0 → mid.attn_1}
 * with {@code group_norm → norm}, {@code to_q/k/v → q/k/v}, {@code to_out.0 → proj_out} (1×1 convolutions there,
 * squeezed to linear weights), {@code conv_shortcut → nin_shortcut}, {@code conv_norm_out → norm_out},
 * {@code downsamplers.0 → downsample}, {@code upsamplers.0 → upsample}.
 *
 * <p>SD 1.x text encoder: the Hugging Face CLIP keys under {@code cond_stage_model.transformer.} (some early files
 * lack the {@code text_model.} level). SD 2.x: OpenCLIP under {@code cond_stage_model.model.}: {@code token_embedding},
 * {@code positional_embedding}, {@code ln_final}, {@code transformer.resblocks.i.{ln_1, ln_2, attn.out_proj,
 * mlp.c_fc, mlp.c_proj}}, and q/k/v as thirds (rows) of {@code attn.in_proj_weight} / {@code in_proj_bias}.
 */
public final class LdmKeys {
  private LdmKeys() {}

  public static final String UNET_PREFIX = "model.diffusion_model.";
  public static final String VAE_PREFIX = "first_stage_model.";
  public static final String CLIP_PREFIX = "cond_stage_model.transformer.";
  public static final String OPEN_CLIP_PREFIX = "cond_stage_model.model.";
  /** The flattened EMA copy of {@code model.diffusion_model.X.Y}: {@code model_ema.diffusion_modelXY} (dots dropped). */
  public static final String EMA_PREFIX = "model_ema.";

  private static final Pattern BLOCK = Pattern.compile("(down|up)_blocks\\.(\\d+)\\.(resnets|attentions|downsamplers|upsamplers)\\.(\\d+)\\.(.+)");
  private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");

  /** The LDM key (with {@link #UNET_PREFIX}) of UNet parameter {@code key}. */
  public static String unet(String key, UNetConfig c) {
    String k = unetInner(key, c);
    return k == null ? null : UNET_PREFIX + k;
  }

  /** The EMA copy of an LDM UNet key, as the original training code flattens it. */
  public static String ema(String ldmUnetKey) {
    return EMA_PREFIX + ldmUnetKey.substring("model.".length()).replace(".", "");
  }

  private static String unetInner(String key, UNetConfig c) {
    int l = c.layersPerBlock();
    String[] top = {"conv_in.", "input_blocks.0.0.", "time_embedding.linear_1.", "time_embed.0.",
        "time_embedding.linear_2.", "time_embed.2.", "conv_norm_out.", "out.0.", "conv_out.", "out.2."};
    for (int i = 0; i < top.length; i += 2) if (key.startsWith(top[i])) return top[i + 1] + key.substring(top[i].length());
    Matcher m = BLOCK.matcher(key);
    if (m.matches()) {
      int b = Integer.parseInt(m.group(2)), j = Integer.parseInt(m.group(4));
      boolean down = m.group(1).equals("down");
      String kind = m.group(3), rest = m.group(5);
      int base = down ? 1 + b * (l + 1) : b * (l + 1);
      return switch (kind) {
        case "resnets" -> (down ? "input_blocks." : "output_blocks.") + (base + j) + ".0." + resnet(rest);
        case "attentions" -> (down ? "input_blocks." : "output_blocks.") + (base + j) + ".1." + rest;
        case "downsamplers" -> j == 0 && rest.startsWith("conv.")
            ? "input_blocks." + (base + l) + ".0.op." + rest.substring("conv.".length()) : null;
        case "upsamplers" -> j == 0 ? "output_blocks." + (base + l) + "."
            + (c.upBlockTypes().get(b).startsWith("CrossAttn") ? 2 : 1) + "." + rest : null;
        default -> null;
      };
    }
    m = MID.matcher(key);
    if (m.matches()) {
      int k = Integer.parseInt(m.group(2));
      return m.group(1).equals("resnets") ? "middle_block." + (k == 0 ? 0 : 2) + "." + resnet(m.group(3))
          : "middle_block.1." + m.group(3);
    }
    return null;
  }

  private static String resnet(String rest) {
    String[] r = {"norm1.", "in_layers.0.", "conv1.", "in_layers.2.", "time_emb_proj.", "emb_layers.1.", "norm2.",
        "out_layers.0.", "conv2.", "out_layers.3.", "conv_shortcut.", "skip_connection."};
    for (int i = 0; i < r.length; i += 2) if (rest.startsWith(r[i])) return r[i + 1] + rest.substring(r[i].length());
    return rest;
  }

  private static final Pattern VAE_BLOCK = Pattern.compile("(encoder|decoder)\\.(down|up)_blocks\\.(\\d+)\\.(resnets|downsamplers|upsamplers)\\.(\\d+)\\.(.+)");
  private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");

  /** The LDM key (with {@link #VAE_PREFIX}) of VAE parameter {@code key}; {@code blocks} = block_out_channels size. */
  public static String vae(String key, int blocks) {
    String k = vaeInner(key, blocks);
    return k == null ? null : VAE_PREFIX + k;
  }

  /** Whether the LDM tensor of VAE {@code key} is a 1×1 convolution where diffusers has a linear layer. */
  public static boolean vaeConvToLinear(String key) {
    return key.contains("mid_block.attentions.") && key.endsWith(".weight") && !key.contains("group_norm");
  }

  private static String vaeInner(String key, int n) {
    for (String side : new String[] {"encoder.", "decoder."}) {
      if (key.startsWith(side + "conv_norm_out.")) return side + "norm_out." + key.substring((side + "conv_norm_out.").length());
      if (key.startsWith(side + "conv_in.") || key.startsWith(side + "conv_out.")) return key;
    }
    if (key.startsWith("quant_conv.") || key.startsWith("post_quant_conv.")) return key;
    Matcher m = VAE_BLOCK.matcher(key);
    if (m.matches()) {
      String side = m.group(1);
      int i = Integer.parseInt(m.group(3)), j = Integer.parseInt(m.group(5));
      int ldm = side.equals("decoder") ? n - 1 - i : i;
      String dir = side.equals("decoder") ? "up" : "down";
      return switch (m.group(4)) {
        case "resnets" -> side + "." + dir + "." + ldm + ".block." + j + "." + vaeResnet(m.group(6));
        case "downsamplers", "upsamplers" -> j == 0 ? side + "." + dir + "." + ldm + "."
            + (side.equals("decoder") ? "upsample." : "downsample.") + m.group(6) : null;
        default -> null;
      };
    }
    m = VAE_MID.matcher(key);
    if (m.matches()) {
      String side = m.group(1), rest = m.group(4);
      int k = Integer.parseInt(m.group(3));
      if (m.group(2).equals("resnets")) return side + ".mid.block_" + (k + 1) + "." + vaeResnet(rest);
      String[] r = {"group_norm.", "norm.", "to_q.", "q.", "to_k.", "k.", "to_v.", "v.", "to_out.0.", "proj_out."};
      for (int i = 0; i < r.length; i += 2)
        if (rest.startsWith(r[i])) return side + ".mid.attn_1." + r[i + 1] + rest.substring(r[i].length());
    }
    return null;
  }

  private static String vaeResnet(String rest) {
    return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring("conv_shortcut.".length()) : rest;
  }

  /** The LDM key of SD 1.x text-encoder parameter {@code key} ({@code text_model.…}), new or early layout. */
  public static String clip(String key, boolean withTextModelLevel) {
    if (withTextModelLevel) return CLIP_PREFIX + key;
    return key.startsWith("text_model.") ? CLIP_PREFIX + key.substring("text_model.".length()) : null;
  }

  private static final Pattern OPEN_CLIP_LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.+)");

  /**
   * Where SD 2.x text-encoder parameter {@code key} lives in OpenCLIP: the LDM key, and for q/k/v the third (0, 1, 2)
   * of the fused {@code in_proj} rows; null when there is none.
   */
  public static OpenClipKey openClip(String key) {
    switch (key) {
      case "text_model.embeddings.token_embedding.weight":
        return new OpenClipKey(OPEN_CLIP_PREFIX + "token_embedding.weight", -1);
      case "text_model.embeddings.position_embedding.weight":
        return new OpenClipKey(OPEN_CLIP_PREFIX + "positional_embedding", -1);
      case "text_model.final_layer_norm.weight":
        return new OpenClipKey(OPEN_CLIP_PREFIX + "ln_final.weight", -1);
      case "text_model.final_layer_norm.bias":
        return new OpenClipKey(OPEN_CLIP_PREFIX + "ln_final.bias", -1);
      default:
        break;
    }
    Matcher m = OPEN_CLIP_LAYER.matcher(key);
    if (!m.matches()) return null;
    String block = OPEN_CLIP_PREFIX + "transformer.resblocks." + m.group(1) + ".";
    String rest = m.group(2);
    String[] r = {"layer_norm1.", "ln_1.", "layer_norm2.", "ln_2.", "self_attn.out_proj.", "attn.out_proj.",
        "mlp.fc1.", "mlp.c_fc.", "mlp.fc2.", "mlp.c_proj."};
    for (int i = 0; i < r.length; i += 2)
      if (rest.startsWith(r[i])) return new OpenClipKey(block + r[i + 1] + rest.substring(r[i].length()), -1);
    String[] qkv = {"self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj."};
    for (int i = 0; i < 3; i++)
      if (rest.startsWith(qkv[i])) {
        String what = rest.substring(qkv[i].length());
        if (what.equals("weight")) return new OpenClipKey(block + "attn.in_proj_weight", i);
        if (what.equals("bias")) return new OpenClipKey(block + "attn.in_proj_bias", i);
      }
    return null;
  }

  /** An OpenCLIP key; {@code third} ≥ 0 picks rows [third·D, (third+1)·D) of a fused q/k/v tensor. */
  public record OpenClipKey(String key, int third) {}
}
