package org.sr4g.diffusion.models;

import java.nio.file.Path;
import org.sr4g.UserInputException;

/** The fields of a Hugging Face CLIPTextModel {@code config.json} that shape the network. */
public record ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
    int maxPositions, String hiddenAct, double layerNormEps, long eosTokenId) {

  public ClipTextConfig {
    if (hiddenSize % numHeads != 0)
      throw new UserInputException("CLIP config: hidden_size " + hiddenSize + " not divisible by " + numHeads + " heads");
    if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu"))
      throw new UserInputException("CLIP config: hidden_act \"" + hiddenAct + "\" not supported (quick_gelu, gelu)");
  }

  public static ClipTextConfig read(Path configJson) {
    return from(ConfigJson.read(configJson));
  }

  /** Parses a parsed {@code config.json} ({@code source} names it in error messages). */
  public static ClipTextConfig fromJson(com.fasterxml.jackson.databind.JsonNode json, String source) {
    if (json == null || !json.isObject()) throw new UserInputException(source + ": not a JSON object");
    return from(ConfigJson.of(json, source));
  }

  static ClipTextConfig from(ConfigJson c) {
    // Defaults are transformers' CLIPTextConfig defaults (SD 1.x's text encoder).
    return new ClipTextConfig(c.integer("vocab_size", 49408), c.integer("hidden_size", 512),
        c.integer("intermediate_size", 2048), c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 8),
        c.integer("max_position_embeddings", 77), c.string("hidden_act", "quick_gelu"),
        c.number("layer_norm_eps", 1e-5), c.integer("eos_token_id", 2));
  }
}
