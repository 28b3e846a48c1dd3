package org.sr4g.diffusion.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The module trees built from the real Stable Diffusion configs have the parameter counts and key shapes of the
 * published checkpoints (no weights needed: shapes only). Counts are those diffusers/transformers report for
 * runwayml/stable-diffusion-v1-5 and stabilityai/stable-diffusion-2-1.
 */
class RealCheckpointLayoutTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ConfigJson json(String text) throws Exception {
    return ConfigJson.of(JSON.readTree(text), "test config");
  }

  /** The number of values over all shapes. */
  static long count(Map<String, long[]> shapes) {
    long n = 0;
    for (long[] s : shapes.values()) {
      long k = 1;
      for (long d : s) k *= d;
      n += k;
    }
    return n;
  }

  @Test
  void sd15Unet() throws Exception {
    Map<String, long[]> s = UNet2DConditionModel.LOADER.parameterShapes(UNetConfig.from(json(BuiltInUNets.SD15)));
    assertEquals(686, s.size());
    assertEquals(859_520_964L, count(s));
    assertArrayEquals(new long[] {320, 768},
        s.get("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"));
    assertArrayEquals(new long[] {1280, 2560, 3, 3}, s.get("up_blocks.0.resnets.0.conv1.weight"));
    assertArrayEquals(new long[] {320, 960, 1, 1}, s.get("up_blocks.3.resnets.0.conv_shortcut.weight")); // 640 + skip 320
    assertArrayEquals(new long[] {320, 640, 1, 1}, s.get("up_blocks.3.resnets.2.conv_shortcut.weight")); // 320 + conv_in 320
  }

  @Test
  void sd21UnetWithLinearProjectionsAndHeadList() throws Exception {
    String cfg = BuiltInUNets.SD15.replace("\"attention_head_dim\": 8", "\"attention_head_dim\": [5, 10, 20, 20]")
        .replace("\"cross_attention_dim\": 768", "\"cross_attention_dim\": 1024, \"use_linear_projection\": true");
    Map<String, long[]> s = UNet2DConditionModel.LOADER.parameterShapes(UNetConfig.from(json(cfg)));
    assertEquals(686, s.size());
    assertEquals(865_910_724L, count(s));
    assertArrayEquals(new long[] {640, 640}, s.get("down_blocks.1.attentions.0.proj_in.weight"));
  }

  @Test
  void sdVae() throws Exception {
    Map<String, long[]> s = AutoencoderKl.LOADER.parameterShapes(AutoencoderKlConfig.from(json("""
        {"act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
         "sample_size": 512,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}""")));
    assertEquals(248, s.size());
    assertEquals(83_653_863L, count(s));
  }

  @Test
  void clipVitL14TextEncoder() throws Exception {
    Map<String, long[]> s = ClipTextModel.LOADER.parameterShapes(ClipTextConfig.from(json("""
        {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12,
         "max_position_embeddings": 77, "vocab_size": 49408, "hidden_act": "quick_gelu", "eos_token_id": 2}""")));
    assertEquals(196, s.size());
    assertEquals(123_060_480L, count(s));
  }
}
