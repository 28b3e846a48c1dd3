package org.sr4g.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sr4g.diffusion.models.AutoencoderKlConfig;
import org.sr4g.diffusion.models.ClipTextConfig;
import org.sr4g.diffusion.models.UNetConfig;
import org.sr4g.diffusion.tokenizer.ByteVocabulary;
import org.sr4g.diffusion.tokenizer.ClipTokenizer;

/** Each load-time check on its own, with the tiny model's configs changed one field at a time (no weights needed). */
class ModelChecksTest {
  private static ClipTextConfig text(String field, int value) {
    ObjectNode n = PipelineConfigs.tiny().textEncoder().deepCopy();
    if (field != null) n.put(field, value);
    return ClipTextConfig.fromJson(n, "te.json");
  }

  @Test
  void everyCheckFiresWithOneLineNamingBothSides(@TempDir Path tmp) throws Exception {
    ByteVocabulary.write(tmp, "<|endoftext|>");
    ClipTokenizer tok = ClipTokenizer.fromFolder(tmp);
    PipelineConfigs c = PipelineConfigs.tiny();
    UNetConfig unet = UNetConfig.fromJson(c.unet(), "unet.json");
    AutoencoderKlConfig vae = AutoencoderKlConfig.fromJson(c.vae(), "vae.json");

    List<String> p = new ArrayList<>();
    ModelChecks.tokenizer(p, tok, "vocab.json", text(null, 0), "te.json");
    ModelChecks.configs(p, text(null, 0), "te.json", unet, "unet.json", vae, "vae.json");
    ModelChecks.prediction(p, "epsilon", "sched.json", null, "x");
    ModelChecks.prediction(p, "epsilon", "sched.json", "epsilon", "x");
    assertEquals(List.of(), p, "the tiny model's parts fit");

    ModelChecks.tokenizer(p, tok, "vocab.json", text("vocab_size", 500), "te.json");
    ModelChecks.tokenizer(p, tok, "vocab.json", text("max_position_embeddings", 64), "te.json");
    ModelChecks.configs(p, text("hidden_size", 48), "te.json", unet, "unet.json", vae, "vae.json");
    ObjectNode v8 = c.vae().deepCopy();
    v8.put("latent_channels", 8);
    ModelChecks.configs(p, text(null, 0), "te.json", unet, "unet.json", AutoencoderKlConfig.fromJson(v8, "vae.json"), "vae.json");
    ModelChecks.prediction(p, "epsilon", "sched.json", "v_prediction", "lora.safetensors");
    assertEquals(List.of(
        "vocab.json has 514 tokens but te.json has vocab_size 500: token ids from 500 on have no embedding (tokenizer and"
            + " text encoder of different models?)",
        "te.json has max_position_embeddings 64 but vocab.json makes 77-token sequences",
        "te.json has hidden_size 48 but unet.json has cross_attention_dim 32 (text encoder and UNet of different models?)",
        "vae.json has latent_channels 8 but unet.json has in_channels 4 and out_channels 4",
        "sched.json has prediction_type epsilon but lora.safetensors declares v_prediction (sampling with the wrong one"
            + " gives noise)"), p);
  }
}
