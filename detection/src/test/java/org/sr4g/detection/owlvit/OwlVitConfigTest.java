package org.sr4g.detection.owlvit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sr4g.UserInputException;
import org.sr4g.diffusion.models.ConfigJson;

/**
 * The three published OWL-ViT v1 shapes load from their config alone, with the module tree (keys and shapes) their
 * checkpoints have; the config's variants and refusals.
 */
class OwlVitConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static OwlVitConfig parse(String json) throws Exception {
    return OwlVitConfig.from(ConfigJson.of(JSON.readTree(json), "config.json"));
  }

  private static void shape(Map<String, long[]> s, String key, long... expected) {
    assertTrue(s.containsKey(key), key);
    assertArrayEquals(expected, s.get(key), key);
  }

  @Test
  void builtInShapesHaveTheCheckpointsModuleTree() {
    Map<String, long[]> b32 = OwlVitDetector.parameterShapes(OwlVitConfig.builtIn("owlvit-b32"));
    shape(b32, "owlvit.vision_model.embeddings.patch_embedding.weight", 768, 3, 32, 32);
    shape(b32, "owlvit.vision_model.embeddings.position_embedding.weight", 577, 768);
    shape(b32, "owlvit.vision_model.encoder.layers.11.mlp.fc1.weight", 3072, 768);
    shape(b32, "owlvit.text_model.embeddings.token_embedding.weight", 49408, 512);
    shape(b32, "owlvit.text_model.embeddings.position_embedding.weight", 16, 512);
    shape(b32, "owlvit.text_model.encoder.layers.11.self_attn.q_proj.weight", 512, 512);
    shape(b32, "owlvit.text_projection.weight", 512, 512);
    shape(b32, "class_head.dense0.weight", 512, 768);
    shape(b32, "class_head.logit_scale.weight", 1, 768);
    shape(b32, "box_head.dense2.weight", 4, 768);
    shape(b32, "layer_norm.weight", 768);
    // 12 + 12 encoder layers of 16 tensors, embeddings 3 + 2, four layer norms, projection, heads 6 + 6, layer_norm 2
    assertEquals(24 * 16 + 3 + 2 + 2 * 2 + 2 + 1 + 6 + 6 + 2, b32.size());

    Map<String, long[]> b16 = OwlVitDetector.parameterShapes(OwlVitConfig.builtIn("owlvit-b16"));
    shape(b16, "owlvit.vision_model.embeddings.patch_embedding.weight", 768, 3, 16, 16);
    shape(b16, "owlvit.vision_model.embeddings.position_embedding.weight", 48 * 48 + 1, 768);

    OwlVitConfig l14c = OwlVitConfig.builtIn("owlvit-l14");
    assertEquals(60, l14c.vision().grid());
    Map<String, long[]> l14 = OwlVitDetector.parameterShapes(l14c);
    shape(l14, "owlvit.vision_model.embeddings.patch_embedding.weight", 1024, 3, 14, 14);
    shape(l14, "owlvit.vision_model.embeddings.position_embedding.weight", 3601, 1024);
    shape(l14, "owlvit.vision_model.encoder.layers.23.mlp.fc2.weight", 1024, 4096);
    shape(l14, "owlvit.text_model.encoder.layers.11.mlp.fc1.weight", 3072, 768);
    shape(l14, "owlvit.text_projection.weight", 768, 768);
    shape(l14, "class_head.dense0.weight", 768, 1024);
  }

  /** Older files keep the towers in text_config_dict / vision_config_dict, which override, as transformers reads them. */
  @Test
  void olderDictKeysOverrideAndDefaultsAreOwlVits() throws Exception {
    OwlVitConfig c = parse("""
        {"model_type": "owlvit", "projection_dim": 512,
         "text_config": {"hidden_size": 999},
         "text_config_dict": {"hidden_size": 512, "eos_token_id": 2},
         "vision_config_dict": {"patch_size": 16, "hidden_act": "gelu"}}""");
    assertEquals(512, c.text().hiddenSize());
    assertEquals(16, c.text().maxPositions());
    assertEquals(2, c.text().eosTokenId());
    assertEquals(16, c.vision().patchSize());
    assertEquals("gelu", c.vision().hiddenAct());
    assertEquals(768, c.vision().imageSize());
  }

  @Test
  void refusals() {
    assertTrue(assertThrows(UserInputException.class, () -> parse("{\"model_type\": \"owlv2\"}")).getMessage()
        .contains("is not OWL-ViT v1 (\"owlvit\"); OWLv2 is a documented next step"));
    assertTrue(assertThrows(UserInputException.class, () -> parse("{\"projection_dim\": 256}")).getMessage()
        .contains("projection_dim 256 must equal text_config hidden_size 512"));
    assertTrue(assertThrows(UserInputException.class, () -> parse("{\"vision_config\": {\"patch_size\": 30}}")).getMessage()
        .contains("image_size 768 must be a multiple of patch_size 30"));
    assertTrue(assertThrows(UserInputException.class, () -> parse("{\"vision_config\": {\"hidden_act\": \"relu\"}}"))
        .getMessage().contains("hidden_act \"relu\" not supported"));
    assertTrue(assertThrows(UserInputException.class, () -> OwlVitConfig.builtIn("owlvit-h14")).getMessage()
        .contains("owlvit-b32, owlvit-b16, owlvit-l14, tiny"));
  }
}
