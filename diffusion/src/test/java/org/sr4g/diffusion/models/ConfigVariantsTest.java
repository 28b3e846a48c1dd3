package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;
import org.sr4g.torch.Autograd;
import org.sr4g.torch.Device;
import org.sr4g.torch.ModeGuard;
import org.sr4g.torch.Tensor;
import org.sr4g.torch.TensorScope;

/**
 * Config spellings the golden fixtures do not use directly, checked by rewriting a fixture into an equivalent form
 * whose reference output is the same: SD 2.x's linear projections, per-block head lists, {@code num_attention_heads},
 * the legacy CLIP {@code eos_token_id 2}.
 */
class ConfigVariantsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static ObjectNode config(ModelGolden g, Consumer<ObjectNode> edit) throws IOException {
    ObjectNode n = (ObjectNode) MAPPER.readTree(g.configFile.toFile());
    edit.accept(n);
    return n;
  }

  /** A 1×1 convolution with weight [C, C, 1, 1] is the linear map with weight [C, C]: same output, other key shapes. */
  private static final class LinearProjectionWeights implements Weights {
    private final Weights base;

    LinearProjectionWeights(Weights base) {
      this.base = base;
    }

    private static boolean isProj(String key) {
      return key.endsWith(".proj_in.weight") || key.endsWith(".proj_out.weight");
    }

    @Override
    public Set<String> keys() {
      return base.keys();
    }

    @Override
    public String source() {
      return base.source() + " (proj weights as matrices)";
    }

    @Override
    public long[] shape(String key) {
      long[] s = base.shape(key);
      return isProj(key) ? new long[] {s[0], s[1]} : s;
    }

    @Override
    public Tensor loadF32(String key) {
      Tensor t = base.loadF32(key);
      return isProj(key) ? t.reshape(t.size(0), t.size(1)) : t;
    }
  }

  private static void checkUnet(ModelGolden g, UNetConfig c, Weights w) {
    try (UNet2DConditionModel unet = UNet2DConditionModel.LOADER.load(c, w, Device.CPU);
        ModeGuard ng = Autograd.noGrad();
        TensorScope scope = TensorScope.open()) {
      g.check("output/sample", unet.forward(g.input("input/sample"), g.input("input/timestep"),
          g.input("input/encoder_hidden_states")));
    }
  }

  @Test
  void linearProjectionMatchesTheConvReference() throws IOException {
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      UNetConfig c = UNetConfig.from(ConfigJson.of(config(g, n -> n.put("use_linear_projection", true)), "test"));
      assertTrue(c.useLinearProjection());
      // The conv-shaped checkpoint is refused by key for a linear-projection config …
      assertTrue(UNet2DConditionModel.LOADER.check(c, g.weights).contains(
          "wrong shape down_blocks.0.attentions.0.proj_in.weight: [32, 32, 1, 1], expected [32, 32]"));
      // … and the same values as [C, C] matrices give the reference output.
      checkUnet(g, c, new LinearProjectionWeights(g.weights));
    }
  }

  @Test
  void headsAsPerBlockListOrNumAttentionHeads() throws IOException {
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      UNetConfig list = UNetConfig.from(ConfigJson.of(config(g, n -> n.putArray("attention_head_dim").add(8).add(8)), "t"));
      checkUnet(g, list, g.weights);
      UNetConfig named = UNetConfig.from(ConfigJson.of(config(g, n -> {
        n.put("num_attention_heads", 8);
        n.put("attention_head_dim", 99); // ignored when num_attention_heads is given, as in diffusers
      }), "t"));
      assertEquals(java.util.List.of(8, 8), named.numHeads());
      checkUnet(g, named, g.weights);
      UNetConfig four = UNetConfig.from(ConfigJson.of(config(g, n -> n.put("attention_head_dim", 4)), "t"));
      assertEquals(java.util.List.of(4, 4), four.numHeads()); // runs, but is another network: not compared
    }
  }

  @Test
  void unsupportedUnetFeaturesAreRefusedByName() throws IOException {
    try (ModelGolden g = ModelGolden.open("unet_a")) {
      UserInputException e = assertThrows(UserInputException.class,
          () -> UNetConfig.from(ConfigJson.of(config(g, n -> n.put("class_embed_type", "timestep")), "unet/config.json")));
      assertTrue(e.getMessage().contains("unet/config.json: \"class_embed_type\""), e.getMessage());
      e = assertThrows(UserInputException.class, () -> UNetConfig.from(ConfigJson.of(
          config(g, n -> n.putArray("down_block_types").add("CrossAttnDownBlock2D").add("SimpleDown")), "u")));
      assertTrue(e.getMessage().contains("down_block_types"), e.getMessage());
    }
  }

  @Test
  void legacyClipEosTokenIdPoolsAtTheLargestId() throws IOException {
    // transformers: eos_token_id 2 (older SD 1.x configs) pools at argmax(ids); the fixture's end token 999 is the
    // largest id in every row, so the pooled output is the same.
    try (ModelGolden g = ModelGolden.open("clip_text")) {
      ClipTextConfig c = ClipTextConfig.from(ConfigJson.of(config(g, n -> n.put("eos_token_id", 2)), "t"));
      try (ClipTextModel m = ClipTextModel.LOADER.load(c, g.weights, Device.CPU);
          ModeGuard ng = Autograd.noGrad();
          TensorScope scope = TensorScope.open()) {
        g.check("output/pooled_output", m.forward(g.input("input/input_ids")).pooledOutput());
      }
    }
  }
}
