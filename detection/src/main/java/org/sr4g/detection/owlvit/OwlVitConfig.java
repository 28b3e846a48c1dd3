package org.sr4g.detection.owlvit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.ClipEncoderLayer;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.ConfigJson;

/**
 * The fields of a Hugging Face {@code OwlViTConfig} ({@code config.json} of an OWL-ViT v1 folder) that shape the
 * network: the text tower ({@code text_config}, a CLIP text transformer), the vision tower ({@code vision_config}) and
 * {@code projection_dim}. Missing fields take transformers' defaults, which are {@code google/owlvit-base-patch32}'s.
 */
public record OwlVitConfig(ClipTextConfig text, Vision vision, int projectionDim) {

  /** {@code vision_config}: a ViT over {@code imageSize / patchSize} squared patches plus a class token. */
  public record Vision(int imageSize, int patchSize, int numChannels, int hiddenSize, int intermediateSize,
      int numLayers, int numHeads, String hiddenAct, double layerNormEps) {
    public Vision {
      if (patchSize < 1 || imageSize < patchSize || imageSize % patchSize != 0)
        throw new UserInputException("OWL-ViT vision_config: image_size " + imageSize + " must be a multiple of"
            + " patch_size " + patchSize);
      if (numHeads < 1 || hiddenSize % numHeads != 0)
        throw new UserInputException("OWL-ViT vision_config: hidden_size " + hiddenSize + " not divisible by "
            + numHeads + " heads");
      if (numChannels != 3) throw new UserInputException("OWL-ViT vision_config: num_channels " + numChannels + ", expected 3 (RGB)");
      ClipEncoderLayer.requireActivation(hiddenAct, "OWL-ViT vision_config");
    }

    /** Patches per side. */
    public int grid() {
      return imageSize / patchSize;
    }

    public int patches() {
      return grid() * grid();
    }
  }

  public OwlVitConfig {
    // The class head compares projected queries with class embeddings of width text hidden_size (transformers
    // builds class_head.dense0 with out_dim = text_config.hidden_size): both widths must agree.
    if (projectionDim != text.hiddenSize())
      throw new UserInputException("OWL-ViT config: projection_dim " + projectionDim + " must equal text_config"
          + " hidden_size " + text.hiddenSize() + " (the class head compares them)");
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  public static OwlVitConfig read(Path configJson) {
    return from(ConfigJson.read(configJson));
  }

  /** Reads the top-level config; {@code text_config_dict}/{@code vision_config_dict} of older files override, as transformers does. */
  public static OwlVitConfig from(ConfigJson c) {
    String type = c.string("model_type", "owlvit");
    if (!type.equals("owlvit"))
      throw new UserInputException(c.source() + ": model_type \"" + type + "\" is not OWL-ViT v1 (\"owlvit\")"
          + (type.equals("owlv2") ? "; OWLv2 is a documented next step (docs/detection.md)" : ""));
    ConfigJson t = merged(c, "text_config"), v = merged(c, "vision_config");
    // transformers' OwlViTTextConfig defaults (max_position_embeddings 16, pad 0, eos 49407).
    ClipTextConfig text = new ClipTextConfig(t.integer("vocab_size", 49408), t.integer("hidden_size", 512),
        t.integer("intermediate_size", 2048), t.integer("num_hidden_layers", 12), t.integer("num_attention_heads", 8),
        t.integer("max_position_embeddings", 16), t.string("hidden_act", "quick_gelu"), t.number("layer_norm_eps", 1e-5),
        t.integer("eos_token_id", 49407));
    Vision vision = new Vision(v.integer("image_size", 768), v.integer("patch_size", 32), v.integer("num_channels", 3),
        v.integer("hidden_size", 768), v.integer("intermediate_size", 3072), v.integer("num_hidden_layers", 12),
        v.integer("num_attention_heads", 12), v.string("hidden_act", "quick_gelu"), v.number("layer_norm_eps", 1e-5));
    return new OwlVitConfig(text, vision, c.integer("projection_dim", 512));
  }

  private static ConfigJson merged(ConfigJson c, String key) {
    ConfigJson base = c.object(key);
    if (!c.has(key + "_dict")) return base;
    ObjectNode m = JSON.createObjectNode();
    for (String k : List.of(key, key + "_dict")) {
      if (!c.has(k)) continue;
      JsonNode n = c.node(k);
      if (!n.isObject()) throw c.bad(k, "an object");
      m.setAll((ObjectNode) n);
    }
    return ConfigJson.of(m, c.source() + " " + key);
  }

  /** The published checkpoints' shapes, for {@code sr4g bench detect} without a checkpoint. */
  public static final List<String> BUILT_IN = List.of("owlvit-b32", "owlvit-b16", "owlvit-l14", "tiny");

  /**
   * {@code owlvit-b32} / {@code owlvit-b16} ({@code google/owlvit-base-patch32/16}: ViT-B at 768 px, text 512 wide),
   * {@code owlvit-l14} ({@code google/owlvit-large-patch14}: ViT-L/14 at 840 px, text 768 wide), or {@code tiny} (the
   * golden fixture's shape: 96 px, patch 16, widths 64/16).
   */
  public static OwlVitConfig builtIn(String name) {
    String json = switch (name.toLowerCase(Locale.ROOT)) {
      case "owlvit-b32" -> "{}";
      case "owlvit-b16" -> "{\"vision_config\": {\"patch_size\": 16}}";
      case "owlvit-l14" -> """
          {"projection_dim": 768,
           "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
           "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
                             "num_hidden_layers": 24, "image_size": 840, "patch_size": 14}}""";
      case "tiny" -> """
          {"projection_dim": 16,
           "text_config": {"hidden_size": 16, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 2},
           "vision_config": {"hidden_size": 64, "intermediate_size": 256, "num_attention_heads": 4,
                             "num_hidden_layers": 2, "image_size": 96, "patch_size": 16}}""";
      default -> throw new UserInputException("unknown OWL-ViT shape '" + name + "' (" + String.join(", ", BUILT_IN) + ")");
    };
    try {
      return from(ConfigJson.of(JSON.readTree(json), "built-in " + name));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
