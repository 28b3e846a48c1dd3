package org.sr4g.diffusion.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sr4g.testing.SharedData;

/** Opens every safetensors file of the golden fixtures and checks it against what the sidecars declare. */
class GoldenSafetensorsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void readsEveryGoldenFileCompletely() throws IOException {
    Path golden = SharedData.require("golden");
    List<Path> files;
    try (var s = Files.list(golden)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
    }
    assertEquals(7, files.size(), "golden safetensors files: " + files);
    for (Path p : files) {
      try (SafetensorsFile st = SafetensorsFile.open(p)) {
        assertFalse(st.keys().isEmpty(), p.toString());
        for (String key : st.keys()) {
          TensorInfo info = st.info(key);
          long n = info.numel();
          switch (info.dtype()) {
            case "F32", "F16" -> {
              float[] v = st.readFloats(key);
              assertEquals(n, v.length, key);
              for (float x : v) assertTrue(Float.isFinite(x), p + " " + key + " has a non-finite value");
            }
            case "I64" -> assertEquals(n, st.readLongs(key).length, key);
            default -> throw new AssertionError(p + " " + key + ": unexpected dtype " + info.dtype());
          }
        }
      }
    }
  }

  @Test
  void weightsAndIoFilesMatchTheirSidecars() throws IOException {
    Path golden = SharedData.require("golden");
    for (String fixture : List.of("unet_a", "vae", "clip_text")) {
      JsonNode side = JSON.readTree(golden.resolve(fixture + ".json").toFile());
      try (SafetensorsFile io = SafetensorsFile.open(golden.resolve(side.get("io_file").asText()))) {
        JsonNode tensors = side.get("tensors");
        assertEquals(tensors.size(), io.keys().size(), fixture + " io tensor count");
        for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> t = it.next();
          TensorInfo info = io.info(t.getKey());
          assertEquals(t.getValue().get("dtype").asText(), info.dtype(), t.getKey());
          assertArrayEquals(JSON.convertValue(t.getValue().get("shape"), long[].class), info.shape(), t.getKey());
        }
      }
      try (SafetensorsFile w = SafetensorsFile.open(golden.resolve(side.get("weights_file").asText()))) {
        if (side.has("weights_count")) assertEquals(side.get("weights_count").asInt(), w.keys().size(), fixture);
        for (String key : w.keys()) {
          String dtype = w.info(key).dtype();
          assertTrue(dtype.equals("F16") || key.endsWith("position_ids") && dtype.equals("I64"), key + " " + dtype);
        }
      }
    }
    try (SafetensorsFile clip = SafetensorsFile.open(golden.resolve("clip_text.weights.safetensors"))) {
      long[] ids = clip.readLongs("text_model.embeddings.position_ids");
      for (int i = 0; i < 77; i++) assertEquals(i, ids[i]);
      assertArrayEquals(new long[] {1000, 32}, clip.info("text_model.embeddings.token_embedding.weight").shape());
    }
  }
}
